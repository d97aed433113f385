namespace Appliance.Bpf.Helpers;

/// <summary>Linux helper ids (___BPF_FUNC_MAPPER in include/uapi/linux/bpf.h) that the appliance implements.</summary>
public enum BpfHelperId
{
    MapLookupElem = 1,
    MapUpdateElem = 2,
    MapDeleteElem = 3,
    KtimeGetNs = 5,
    TracePrintk = 6,
    GetPrandomU32 = 7,
    GetSmpProcessorId = 8,
    SkbStoreBytes = 9,
    L3CsumReplace = 10,
    L4CsumReplace = 11,
    TailCall = 12,
    SkbVlanPush = 18,
    SkbVlanPop = 19,
    Redirect = 23,
    SkbLoadBytes = 26,
    CsumDiff = 28,
    GetHashRecalc = 34,
    SkbChangeTail = 38,
    SkbChangeHead = 43,
    SkbAdjustRoom = 50,
    RingbufOutput = 130,
    RingbufReserve = 131,
    RingbufSubmit = 132,
    RingbufDiscard = 133,
}
