using System.Runtime.InteropServices;
using Appliance.Datapath.Xsk;
using Appliance.Interop;
using Xunit;

namespace Appliance.Datapath.Tests.Xsk;

/// <summary>The ring protocol against a second ring view of the same memory playing the kernel.</summary>
public sealed unsafe class XskRingTests
{
    private static readonly XdpRingOffset Layout = new() { Producer = 0, Consumer = 128, Flags = 196, Desc = 320 };

    [Theory]
    [InlineData(0u)]
    [InlineData(0xFFFF_FF00u)] // free-running indices wrap around u32
    public void Entries_arrive_in_order_across_index_wrap(uint start)
    {
        const uint size = 64;
        byte* mem = (byte*)NativeMemory.AllocZeroed(4096);
        try
        {
            *(uint*)(mem + Layout.Producer) = start;
            *(uint*)(mem + Layout.Consumer) = start;
            var producer = XskRing.Over(mem, Layout, size, asProducer: true);
            var consumer = XskRing.Over(mem, Layout, size, asProducer: false);
            ulong next = 0, expect = 0;
            var rng = new Random(5);
            while (expect < 10_000)
            {
                uint got = producer.Reserve((uint)rng.Next(1, 80), out uint idx);
                Assert.True(got <= size);
                for (uint i = 0; i < got; i++) producer.Addr(idx + i) = next++;
                producer.Submit(got);
                Assert.True(producer.Free(1) <= size);

                uint n = consumer.Peek((uint)rng.Next(1, 80), out uint cidx);
                for (uint i = 0; i < n; i++) Assert.Equal(expect++, consumer.Addr(cidx + i));
                consumer.Release(n);
            }
            Assert.Equal(next - expect, (ulong)producer.Outstanding);
        }
        finally { NativeMemory.Free(mem); }
    }

    [Fact]
    public void A_full_ring_reserves_nothing_until_the_consumer_releases()
    {
        byte* mem = (byte*)NativeMemory.AllocZeroed(4096);
        try
        {
            var producer = XskRing.Over(mem, Layout, 8, asProducer: true);
            var consumer = XskRing.Over(mem, Layout, 8, asProducer: false);
            Assert.Equal(8u, producer.Reserve(20, out _));
            producer.Submit(8);
            Assert.Equal(0u, producer.Reserve(1, out _));
            Assert.Equal(3u, consumer.Peek(3, out _));
            consumer.Release(3);
            Assert.Equal(3u, producer.Reserve(5, out _));
        }
        finally { NativeMemory.Free(mem); }
    }

    [Fact]
    public void Need_wakeup_is_read_from_the_flags_word()
    {
        byte* mem = (byte*)NativeMemory.AllocZeroed(4096);
        try
        {
            var ring = XskRing.Over(mem, Layout, 8, asProducer: true);
            Assert.False(ring.NeedsWakeup);
            *(uint*)(mem + Layout.Flags) = XskConstants.RingNeedWakeup;
            Assert.True(ring.NeedsWakeup);
        }
        finally { NativeMemory.Free(mem); }
    }
}
