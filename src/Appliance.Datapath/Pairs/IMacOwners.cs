using Appliance.Config;

namespace Appliance.Datapath.Pairs;

/// <summary>Who owns a MAC beyond one port's classifier: the board's other ports, whose pairs configured or learned
/// it. A tenant may not learn such a MAC (<see cref="L2Classifier.Learn"/>): claimed on its port too, the switch
/// upstream would move the MAC there and take the other tenant's traffic.</summary>
public interface IMacOwners
{
    /// <summary>Whether a pair of a port other than the one <paramref name="asking"/> classifies owns <paramref name="mac"/>.</summary>
    bool OwnedElsewhere(MacAddress mac, L2Classifier asking);
}
