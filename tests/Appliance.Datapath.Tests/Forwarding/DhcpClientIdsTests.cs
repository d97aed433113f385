using System.Buffers.Binary;
using Appliance.Bpf.Routing;
using Appliance.Config;
using Appliance.Datapath.Forwarding;
using Appliance.Datapath.Tests.Engine;
using Xunit;

namespace Appliance.Datapath.Tests.Forwarding;

/// <summary>The DHCP client identities a tenant may use (<see cref="DhcpClientIds"/>) and how a client's message names
/// them (<see cref="DhcpMessages.ClientIdentities"/>): DHCPv4's client identifier or hardware address, DHCPv6's DUID
/// with each IA. Frames are built here byte by byte, as udhcpc, dhclient and systemd-networkd send them.</summary>
public sealed class DhcpClientIdsTests
{
    private static readonly byte[] Mac = [0x02, 0, 0, 0, 0x0a, 0x01];
    private const ulong Seed = 0x1234_5678_9abc_def1;

    /// <summary>A DHCPv4 client message from <see cref="Mac"/> to port 67: options <paramref name="options"/> (after the
    /// cookie, an end option added), <paramref name="file"/> in the file field, chaddr <paramref name="chaddr"/> of
    /// length <paramref name="hlen"/>, 802.1Q-tagged when <paramref name="tag"/> is set.</summary>
    private static byte[] V4(byte[] options, byte[]? chaddr = null, byte hlen = 6, byte[]? file = null, byte op = 1, string giaddr = "0.0.0.0",
        ushort tag = 0)
    {
        var udp = new byte[8 + 240 + options.Length + 1];
        BinaryPrimitives.WriteUInt16BigEndian(udp, 68);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), 67);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        (udp[8], udp[9], udp[10]) = (op, 1, hlen);
        BinaryPrimitives.WriteUInt32BigEndian(udp.AsSpan(8 + 4), (uint)Random.Shared.Next()); // xid: names no client
        System.Net.IPAddress.Parse(giaddr).GetAddressBytes().CopyTo(udp, 8 + 24);
        (chaddr ?? Mac).CopyTo(udp, 8 + 28);
        file?.CopyTo(udp, 8 + 108);
        BinaryPrimitives.WriteUInt32BigEndian(udp.AsSpan(8 + 236), 0x6382_5363);
        options.CopyTo(udp, 8 + 240);
        udp[^1] = 255;
        return TestFrames.Ip([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], Mac, [0, 0, 0, 0], [255, 255, 255, 255], 17, udp, tag);
    }

    private static byte[] Option(byte code, params byte[] value) => [code, (byte)value.Length, .. value];
    private static readonly byte[] Discover = Option(53, 1);

    /// <summary>A DHCPv6 message of <paramref name="type"/> from the client port to 547 carrying
    /// <paramref name="options"/> (each code and value).</summary>
    private static byte[] V6(byte type, params (ushort Code, byte[] Value)[] options)
    {
        var body = new List<byte> { type, 0x12, 0x34, 0x56 };
        foreach (var (code, value) in options)
        {
            body.AddRange([(byte)(code >> 8), (byte)code, (byte)(value.Length >> 8), (byte)value.Length]);
            body.AddRange(value);
        }
        var udp = new byte[8 + body.Count];
        BinaryPrimitives.WriteUInt16BigEndian(udp, 546);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(2), 547);
        BinaryPrimitives.WriteUInt16BigEndian(udp.AsSpan(4), (ushort)udp.Length);
        body.CopyTo(udp, 8);
        return TestFrames.Ip([0x33, 0x33, 0, 1, 0, 2], Mac, System.Net.IPAddress.Parse("fe80::1").GetAddressBytes(),
            System.Net.IPAddress.Parse("ff02::1:2").GetAddressBytes(), 17, udp);
    }

    private static (ushort, byte[]) Duid(byte last) => (1, [0, 3, 0, 1, 2, 0, 0, 0, 0x0a, last]); // DUID-LL
    private static (ushort, byte[]) Ia(ushort type, uint iaid) => (type, [(byte)(iaid >> 24), (byte)(iaid >> 16), (byte)(iaid >> 8), (byte)iaid, 0, 0, 0, 0, 0, 0, 0, 0]);
    private const ushort IaNa = 3, IaTa = 4, IaPd = 25;

    /// <summary>Reads a frame as <see cref="AddressGuard"/> does (<see cref="FrameClaims"/>), every other claim let
    /// through: counts the DHCP client messages it is handed and reads or judges each.</summary>
    private struct DhcpJudge(DhcpClientIds? table, long now, ulong[]? ids = null) : IClaimJudge
    {
        public int Handed, Count;
        public bool V6;
        public readonly bool Address(IpFamily family, ReadOnlySpan<byte> address, ClaimKind kind) => false;
        public readonly bool LinkLayer(MacAddress mac) => false;

        public bool DhcpClient(in DhcpClientMessage message)
        {
            Handed++;
            V6 = message.V6;
            if (table is not null) return table.Refuses(message, now);
            Count = DhcpMessages.ClientIdentities(message, Seed, ids);
            return false;
        }
    }

    private static ulong[] Ids(byte[] frame, out bool v6)
    {
        var ids = new ulong[DhcpMessages.MaxIdentitiesPerMessage];
        var judge = new DhcpJudge(null, 0, ids);
        FrameClaims.Read(frame, ref judge);
        v6 = judge.V6;
        return judge.Handed == 0 ? [] : judge.Count < 0 ? null! : ids[..judge.Count];
    }

    private static bool Refuses(DhcpClientIds table, byte[] frame, long now)
    {
        var judge = new DhcpJudge(table, now);
        return FrameClaims.Read(frame, ref judge);
    }

    private static ulong[] Ids(byte[] frame) => Ids(frame, out _);

    [Fact]
    public void A_DHCPv4_client_is_its_client_identifier_else_its_hardware_address()
    {
        var byMac = Assert.Single(Ids(V4(Discover)));
        Assert.Equal(byMac, Assert.Single(Ids(V4(Discover)))); // another xid, the same client
        var id1 = Assert.Single(Ids(V4([.. Discover, .. Option(61, 0xff, 1)])));
        var id2 = Assert.Single(Ids(V4([.. Discover, .. Option(61, 0xff, 2)])));
        Assert.Equal(id1, Assert.Single(Ids(V4([.. Option(61, 0xff, 1), .. Discover])))); // anywhere among the options
        Assert.Equal(4, new[] { byMac, id1, id2, Assert.Single(Ids(V4(Option(61, [1, .. Mac])))) }.Distinct().Count());
        // The identifier is all its instances in order (RFC 3396): one fixed first piece does not make ever new seconds one.
        Assert.NotEqual(Assert.Single(Ids(V4([.. Option(61, 0xff, 1), .. Option(61, 7)]))), Assert.Single(Ids(V4([.. Option(61, 0xff, 1), .. Option(61, 8)]))));
        // In the file field an option overload lends (52 = 1): the server reads it there.
        byte[] inFile = [.. Option(61, 0xff, 9), 255];
        var overloaded = Assert.Single(Ids(V4([.. Discover, .. Option(52, 1)], file: inFile)));
        Assert.NotEqual(byMac, overloaded);
        Assert.Equal(byMac, Assert.Single(Ids(V4(Discover, file: inFile)))); // not lent: the file field is a file name
        // The hardware address as a server keys on it: htype, hlen and hlen bytes of chaddr (bytes past the MAC count).
        byte[] longer = [.. Mac, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
        Assert.NotEqual(byMac, Assert.Single(Ids(V4(Discover, longer, hlen: 16))));
        Assert.Equal(byMac, Assert.Single(Ids(V4(Discover, longer, hlen: 6))));
    }

    /// <summary>A client identifier of the hardware form (type 1 and a 6-byte MAC) names that MAC, which a tenant must
    /// own as it owns chaddr (FrameClaims): read as a server reads the identifier, its instances concatenated, also from
    /// a field an option overload lends; any other form names no MAC.</summary>
    [Fact]
    public void A_client_identifier_of_the_hardware_form_names_its_MAC()
    {
        byte[] other = [0x02, 0, 0, 0, 0x0b, 0x07];
        static MacAddress? Named(byte[] frame) =>
            DhcpMessages.IsClientMessageV4(frame.AsSpan(14), out var message, out _, out _)
            && DhcpMessages.ClientIdentifierMac(message, out var mac) ? mac : null;
        Assert.Equal(MacAddress.Read(other), Named(V4([.. Discover, .. Option(61, [1, .. other])])));
        Assert.Equal(MacAddress.Read(other), Named(V4([.. Option(61, 1, 2, 0), .. Discover, .. Option(61, 0, 0, 0x0b, 7)]))); // split (RFC 3396)
        Assert.Equal(MacAddress.Read(other), Named(V4([.. Discover, .. Option(52, 1)], file: [.. Option(61, [1, .. other]), 255])));
        Assert.Null(Named(V4(Discover)));                                    // no identifier: chaddr alone names the client
        Assert.Null(Named(V4([.. Discover, .. Option(61, [0xff, .. other])]))); // RFC 4361's form: a DUID, no MAC
        Assert.Null(Named(V4([.. Discover, .. Option(61, [1, .. other, 0])])));  // not 6 bytes of address
        Assert.Null(Named(V4([.. Discover, .. Option(61, [1, .. other])], op: 2))); // a server's answer names no client
    }

    [Fact]
    public void Only_a_clients_own_messages_name_identities()
    {
        Assert.Empty(Ids(V4([.. Discover, .. Option(61, 0xff, 1)], giaddr: "10.9.0.77"))); // relayed: a relay agent's
        Assert.Empty(Ids(V4(Discover, op: 2)));                                           // a server's answer
        var first = V4([.. Discover, .. Option(61, 0xff, 1)]);
        BinaryPrimitives.WriteUInt16BigEndian(first.AsSpan(14 + 6), 0x2000); // a first fragment: its options may follow
        Assert.Null(Ids(first));
        Assert.Empty(Ids(V6(11, Duid(1))));                        // INFORMATION-REQUEST leases nothing
        Assert.Empty(Ids(V6(12, Duid(1), Ia(IaNa, 1))));           // RELAY-FORW: a relay agent's
        Assert.Empty(Ids(V6(7, Duid(1), Ia(IaNa, 1))));            // REPLY: a server's
        Assert.Empty(Ids(TestFrames.Build(Mac, Mac, 100, 1)));     // not DHCP at all
    }

    [Fact]
    public void A_DHCPv6_client_names_one_identity_per_IA_of_its_DUID()
    {
        var solicit = Ids(V6(1, Duid(1), Ia(IaNa, 7)), out bool v6);
        Assert.True(v6);
        var na = Assert.Single(solicit);
        foreach (byte type in new byte[] { 3, 4, 5, 6, 8, 9 }) // REQUEST … DECLINE: the same client, the same IA
            Assert.Equal(na, Assert.Single(Ids(V6(type, Ia(IaNa, 7), Duid(1))))); // the DUID after the IA
        var both = Ids(V6(3, Duid(1), Ia(IaNa, 7), Ia(IaPd, 7)));   // systemd-networkd: an address and a prefix, one IAID
        Assert.Equal(2, both.Length);
        Assert.Contains(na, both);
        Assert.NotEqual(na, Assert.Single(Ids(V6(1, Duid(2), Ia(IaNa, 7)))));  // another DUID
        Assert.NotEqual(na, Assert.Single(Ids(V6(1, Duid(1), Ia(IaNa, 8)))));  // another IAID
        Assert.NotEqual(na, Assert.Single(Ids(V6(1, Duid(1), Ia(IaTa, 7)))));  // another IA type
        Assert.Single(Ids(V6(1, Duid(1), Ia(IaNa, 7), Ia(IaNa, 7))));          // one IA twice is one
        var many = Enumerable.Range(0, DhcpMessages.MaxIdentitiesPerMessage + 1).Select(i => Ia(IaNa, (uint)i)).Prepend(Duid(1)).ToArray();
        Assert.Null(Ids(V6(1, many)));                                         // more than any client asks for
    }

    [Fact]
    public void The_share_is_twice_the_MACs_the_tenant_may_send_from()
    {
        Assert.Equal(4, DhcpClientIds.LimitFor(0));
        Assert.Equal(4, DhcpClientIds.LimitFor(1));
        Assert.Equal(34, DhcpClientIds.LimitFor(16));
    }

    [Fact]
    public void A_tenant_holds_its_share_of_identities_each_until_it_is_idle_for_an_hour()
    {
        var t = new DhcpClientIds(4);
        long now = 1_000;
        Assert.True(t.Admit(false, [1, 2], now));
        Assert.True(t.Admit(false, [3, 4], now));
        Assert.False(t.Admit(false, [5], now));                // past the share
        Assert.False(t.Admit(false, [1, 5], now));             // a known one with a new one: the new one does not fit
        Assert.True(t.Admit(false, [1], now));                  // one it holds: always
        Assert.True(t.Admit(true, [5, 6, 7, 8], now));          // DHCPv6 has a share of its own
        Assert.Equal(4, t.Count(false, now));
        Assert.Equal(4, t.Count(true, now));

        now += DhcpClientIds.IdleLifetime - 1;
        Assert.True(t.Admit(false, [1], now));                  // a renewal keeps it
        Assert.False(t.Admit(false, [5], now));
        now += 1;                                               // 2, 3 and 4 idle for the lifetime: forgotten
        Assert.Equal(1, t.Count(false, now));
        Assert.True(t.Admit(false, [5, 6, 2], now));            // 2 came back after it was forgotten: let in while there is room
        Assert.False(t.Admit(false, [7], now));
        Assert.Equal(4, t.Count(false, now));

        var larger = new DhcpClientIds(6, t);                   // learnLimit raised by a reload: what it held is kept
        Assert.Equal(4, larger.Count(false, now));
        Assert.True(larger.Admit(false, [7, 8], now));
        Assert.False(larger.Admit(false, [9], now));
    }

    [Fact]
    public void A_message_past_the_share_is_refused_and_counted_and_nothing_allocates()
    {
        var t = new DhcpClientIds(DhcpClientIds.LimitFor(0));
        var frames = Enumerable.Range(0, 6).Select(i => V4([.. Discover, .. Option(61, 0xff, (byte)i)])).ToArray();
        for (int i = 0; i < 4; i++) Assert.False(Refuses(t, frames[i], 1));
        Assert.True(Refuses(t, frames[4], 1));
        Assert.True(Refuses(t, frames[5], 1));
        Assert.False(Refuses(t, frames[0], 1));                  // a host restarting with its identifier
        Assert.False(Refuses(t, V6(11, Duid(1)), 1));            // names none
        var plain = TestFrames.Build(Mac, Mac, 100, 1);
        Assert.False(Refuses(t, plain, 1));
        Assert.Equal(2, t.Refused);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++)
        {
            Refuses(t, frames[i % 6], 1);
            Refuses(t, plain, 1);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    /// <summary>The identity check reads no frame's headers of its own: <see cref="FrameClaims"/>, which read them for
    /// the other claims, hands it the DHCP client messages it found (behind VLAN tags too), and only those, after every
    /// other claim of the frame passed.</summary>
    [Fact]
    public void Only_DHCP_client_messages_reach_the_identity_check_and_only_once_their_other_claims_passed()
    {
        static int Handed(byte[] frame)
        {
            var judge = new DhcpJudge(null, 0, new ulong[DhcpMessages.MaxIdentitiesPerMessage]);
            FrameClaims.Read(frame, ref judge);
            return judge.Handed;
        }
        byte[] ip4 = [10, 0, 0, 5], ip6 = System.Net.IPAddress.Parse("fe80::1").GetAddressBytes();
        byte[] udp = [0, 68, 0, 53, 0, 12, 0, 0, 1, 2, 3, 4]; // to port 53
        Assert.Equal(1, Handed(V4(Discover)));
        Assert.Equal(1, Handed(V4(Discover, tag: 7)));
        Assert.Equal(1, Handed(V6(1, Duid(1), Ia(IaNa, 7))));
        Assert.Equal(1, Handed(V6(11, Duid(1))));                  // a client's, though it names none
        Assert.Equal(0, Handed(V4(Discover, op: 2)));              // a server's answer
        Assert.Equal(0, Handed(V4(Discover, giaddr: "10.9.0.77"))); // relayed
        Assert.Equal(0, Handed(V6(7, Duid(1), Ia(IaNa, 7))));      // REPLY
        Assert.Equal(0, Handed(V6(12, Duid(1), Ia(IaNa, 7))));     // RELAY-FORW
        Assert.Equal(0, Handed(TestFrames.Ip(Mac, Mac, ip4, ip4, 17, udp)));
        Assert.Equal(0, Handed(TestFrames.Ip(Mac, Mac, ip6, ip6, 17, udp)));
        Assert.Equal(0, Handed(TestFrames.Ip(Mac, Mac, ip4, ip4, 6, udp)));
        Assert.Equal(0, Handed(TestFrames.Build(Mac, Mac, 100, 1)));

        // A chaddr the tenant may not send from refuses the frame before its identities are judged (or taken).
        var t = new DhcpClientIds(DhcpClientIds.LimitFor(0));
        var guard = new RefusingLinkLayer(t);
        Assert.True(FrameClaims.Read(V4([.. Discover, .. Option(61, 0xff, 1)]), ref guard));
        Assert.Equal(0, t.Count(false, 1));
        Assert.Equal(0, t.Refused);
    }

    private struct RefusingLinkLayer(DhcpClientIds table) : IClaimJudge
    {
        public readonly bool Address(IpFamily family, ReadOnlySpan<byte> address, ClaimKind kind) => false;
        public readonly bool LinkLayer(MacAddress mac) => true;
        public readonly bool DhcpClient(in DhcpClientMessage message) => table.Refuses(message, 1);
    }

    /// <summary>The table as it was before its hash table: every entry compared per message, O(8 × share) under the lock.
    /// The reference the table's answers are checked against.</summary>
    private sealed class LinearIds(int limit)
    {
        private readonly ulong[] _ids = new ulong[limit];
        private readonly long[] _seen = new long[limit];

        public bool Admit(ReadOnlySpan<ulong> identities, long now)
        {
            int live = 0, known = 0;
            for (int s = 0; s < limit; s++)
                if (Live(s, now))
                {
                    live++;
                    if (identities.Contains(_ids[s])) known++;
                }
            if (live + identities.Length - known > limit) return false;
            foreach (ulong id in identities)
            {
                int slot = -1;
                for (int s = 0; s < limit; s++)
                {
                    if (_ids[s] == id)
                    {
                        slot = s;
                        break;
                    }
                    if (slot < 0 && !Live(s, now)) slot = s;
                }
                _ids[slot] = id;
                _seen[slot] = now;
            }
            return true;
        }

        public int Count(long now) => Enumerable.Range(0, limit).Count(s => Live(s, now));

        public LinearIds Grown(int larger)
        {
            var grown = new LinearIds(larger);
            _ids.CopyTo(grown._ids, 0);
            _seen.CopyTo(grown._seen, 0);
            return grown;
        }

        private bool Live(int s, long now) => _ids[s] != 0 && now - _seen[s] < DhcpClientIds.IdleLifetime;
    }

    /// <summary>Random runs of client messages (1 to 8 identities of a universe twice the share, new ones and ones held,
    /// the clock moving by less than a lifetime, a lifetime or exactly to its edge) give the same answer, message by
    /// message, and the same count per family, as the old table, at the smallest, the default and the largest share,
    /// and after a reload grows the share.</summary>
    [Theory]
    [InlineData(4, 34, 4000)]
    [InlineData(34, 2050, 4000)]
    [InlineData(2050, 2050, 6000)]
    public void The_table_answers_as_the_old_one_did(int limit, int grown, int steps)
    {
        var rng = new Random(limit * 31 + grown);
        var universe = new ulong[2 * grown];
        for (int i = 0; i < universe.Length; i++) universe[i] = (ulong)rng.NextInt64() | 1;
        var table = new DhcpClientIds(limit);
        var reference = new[] { new LinearIds(limit), new LinearIds(limit) };
        long lifetime = DhcpClientIds.IdleLifetime, now = 1_000, tick = lifetime / (2 * limit + 4);
        int admitted = 0, refused = 0, reused = 0, forgotten = 0;
        Span<ulong> ids = stackalloc ulong[DhcpMessages.MaxIdentitiesPerMessage];
        for (int step = 0; step < steps; step++)
        {
            if (step == steps / 2 && grown != limit)
            {
                table = new DhcpClientIds(grown, table);
                reference = [reference[0].Grown(grown), reference[1].Grown(grown)];
                limit = grown;
            }
            bool v6 = rng.Next(4) == 0;
            var model = reference[v6 ? 1 : 0];
            int held = model.Count(now), r = rng.Next(4 * limit + 100); // a jump about once in two lifetimes
            now += r > 2 ? rng.NextInt64(0, 2 * tick) : r == 2 ? rng.NextInt64(0, lifetime) : r == 1 ? lifetime - 1 : lifetime;
            int n = rng.Next(3) == 0 ? rng.Next(1, ids.Length + 1) : 1, pool = Math.Min(universe.Length, 2 * limit);
            for (int i = 0; i < n; i++)
                do ids[i] = universe[rng.Next(pool)];
                while (ids[..i].Contains(ids[i]));
            int before = model.Count(now);
            bool expected = model.Admit(ids[..n], now);
            Assert.Equal(expected, table.Admit(v6, ids[..n], now));
            Assert.Equal(model.Count(now), table.Count(v6, now));
            Assert.Equal(reference[v6 ? 0 : 1].Count(now), table.Count(!v6, now));
            if (expected) admitted++;
            else refused++;
            if (expected && before == limit) reused++;
            if (before < held) forgotten++;
        }
        // Not a run that never filled, never forgot, or never let a known identity in at the bound.
        Assert.True(admitted > steps / 10 && refused > steps / 10 && reused > 0 && forgotten > 0,
            $"{admitted} admitted, {refused} refused, {reused} at the bound, {forgotten} with some forgotten");
    }

    [Fact]
    public void At_the_largest_share_a_tenant_holds_2050_identities_and_not_one_more()
    {
        static ulong Id(long i) => unchecked((ulong)i * 0x9E37_79B9_7F4A_7C15); // spread over the chains
        int share = DhcpClientIds.LimitFor(1024);
        Assert.Equal(2050, share);
        var t = new DhcpClientIds(share);
        for (int i = 1; i <= share; i++) Assert.True(t.Admit(false, [Id(i)], 1_000 + i)); // i named at 1,000 + i
        long now = 1_000 + share + 1;
        Assert.Equal(share, t.Count(false, now));
        Assert.False(t.Admit(false, [Id(0)], now));
        Assert.False(t.Admit(false, [Id(1), Id(0)], now)); // a known one with a new one
        Assert.True(t.Admit(false, [Id(1)], now));          // the first, renewed: now the last to go
        now = 1_003 + DhcpClientIds.IdleLifetime;            // the second and third idle for the lifetime
        Assert.Equal(share - 2, t.Count(false, now));
        Assert.True(t.Admit(false, [Id(0), Id(-1)], now));
        Assert.False(t.Admit(false, [Id(-2)], now));
        Assert.True(t.Admit(false, [Id(4)], now));          // the fourth, idle a tick less than the lifetime: still held
        Assert.True(t.Admit(false, [Id(1)], now));
        Assert.Equal(share, t.Count(false, now));
        Assert.Equal(0, t.Count(true, now));
    }

    /// <summary>A reload that lowers the share keeps the identities named last: those of clients still renewing.</summary>
    [Fact]
    public void A_smaller_share_keeps_the_identities_named_last()
    {
        var t = new DhcpClientIds(6);
        for (ulong id = 1; id <= 6; id++) Assert.True(t.Admit(true, [id], 100 + (long)id));
        Assert.True(t.Admit(true, [1], 200));                    // 1 renewed: named last
        var smaller = new DhcpClientIds(4, t);
        Assert.Equal(4, smaller.Count(true, 200));
        foreach (ulong held in new ulong[] { 1, 4, 5, 6 }) Assert.True(smaller.Admit(true, [held], 201));
        Assert.False(smaller.Admit(true, [2], 201));
        Assert.False(smaller.Admit(true, [3], 201));
    }
}
