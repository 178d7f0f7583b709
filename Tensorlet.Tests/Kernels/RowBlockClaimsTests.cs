using NUnit.Framework;
using Tensorlet.Kernels.Cpu;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// A GEMM row block whose slivers other threads take over (<see cref="RowBlockClaims"/>): the claim protocol, and a
/// weight gradient run with a helper beside its owner giving the floats of one thread alone.
/// </summary>
public sealed unsafe class RowBlockClaimsTests
{
    [Test]
    public void EachSliverOfAKBlockIsClaimedOnceAndNoneAfterTheBlockFinishes()
    {
        byte* memory = stackalloc byte[2 * RowBlockClaims.SlotBytes];
        new Span<byte>(memory, 2 * RowBlockClaims.SlotBytes).Clear();
        var slot = RowBlockClaims.Align(memory);
        float block = 0f;

        // Claimed by an owner that has not published yet: open, nothing to take.
        Assert.That(slot->IsOpen, Is.True);
        Assert.That(slot->TryClaim(), Is.EqualTo(RowBlockClaims.NoneLeft));

        slot->Publish(&block, 0, 256, 3);
        Assert.That(new[] { slot->TryClaim(), slot->TryClaim(), slot->TryClaim() }, Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(slot->TryClaim(), Is.EqualTo(RowBlockClaims.NoneLeft));
        Assert.That(slot->Block, Is.EqualTo(((IntPtr)(&block), 0, 256)));
        slot->Done();
        slot->Done();
        slot->WaitForHelpers(2);

        // The next K block starts from its first sliver, with no helper counted yet.
        slot->Publish(&block, 256, 100, 2);
        Assert.That(slot->Epoch, Is.EqualTo(2));
        Assert.That(slot->TryClaim(), Is.EqualTo(0));
        slot->WaitForHelpers(0);

        slot->Finish();
        Assert.That(slot->IsOpen, Is.False);
        Assert.That(slot->TryClaim(), Is.EqualTo(RowBlockClaims.Finished));
    }

    [Test]
    public void AHelperBesideTheOwnerGivesTheFloatsOfOneThread()
    {
        // A weight gradient dYᵀ·X: 768 rows in 4 blocks of 192 on two threads, 6 K blocks of 234, 8 slivers.
        const int m = 768, n = 256, k = 1400;
        var rng = new Random(41);
        float[] dy = Values(rng, k * m), x = Values(rng, k * n);
        float[] alone = new float[m * n], shared = new float[m * n];
        CpuGemm.Gemm(true, false, m, n, k, 1f, dy, x, 0f, alone, 1);

        using var packed = CpuGemm.PackB(false, k, n, x);
        byte* memory = stackalloc byte[(RowBlockClaims.MaxBlocks + 1) * RowBlockClaims.SlotBytes];
        new Span<byte>(memory, (RowBlockClaims.MaxBlocks + 1) * RowBlockClaims.SlotBytes).Clear();
        var slots = RowBlockClaims.Align(memory);
        fixed (float* a = dy, c = shared)
        {
            var job = GemmJob.ForPackedB(packed, true, m, 1f, a, 0f, c, 2);
            Assert.That(job.CanShareRowBlocks(2), Is.True);
            job.ShareRowBlocks(slots, 2);
            Assert.That(job.Items, Is.EqualTo(job.RowBlocks + 1));

            // The help item starts first and waits for the owner's blocks; the owner runs every row block in turn.
            using var started = new ManualResetEventSlim();
            var helper = new Thread(() =>
            {
                started.Set();
                job.Run(job.Items - 1);
            });
            helper.Start();
            started.Wait();
            for (int block = 0; block < job.RowBlocks; block++)
            {
                job.Run(block);
            }

            Assert.That(helper.Join(TimeSpan.FromSeconds(60)), Is.True, "the helper left once every block finished");
        }

        Assert.That(shared, Is.EqualTo(alone));
    }

    private static float[] Values(Random rng, int length)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
        {
            values[i] = (float)((rng.NextDouble() * 2) - 1);
        }

        return values;
    }
}
