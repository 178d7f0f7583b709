using NUnit.Framework;
using Tensorlet.Models.Data;
using Tensorlet.Models.Training;

namespace Tensorlet.Tests.Models;

public sealed class TextBatchSourceTests
{
    private static readonly int[] Text = Enumerable.Range(0, 23).Select(i => (i * 7) % 11).ToArray();

    [Test]
    public void WindowsAreSeqLenPlusOneCharactersSteppedBySeqLen()
    {
        var source = new TextWindowBatchSource(CharIds.FromIds(Text, 11), sequenceLength: 5);

        // 23 characters: windows start at 0, 5, 10, 15 (the one at 20 would need 26).
        Assert.That(source.Count, Is.EqualTo(4));
        var (inputs, targets, positions) = Fill(source, [2, 0]);
        for (int t = 0; t < 5; t++)
        {
            Assert.That(inputs[(t * 2) + 0], Is.EqualTo(Text[10 + t]));
            Assert.That(targets[(t * 2) + 0], Is.EqualTo(Text[10 + t + 1]));
            Assert.That(inputs[(t * 2) + 1], Is.EqualTo(Text[t]));
            Assert.That(targets[(t * 2) + 1], Is.EqualTo(Text[t + 1]));
            Assert.That(positions[t * 2], Is.EqualTo(t + 1));
        }

        Assert.That(new TextWindowBatchSource(CharIds.FromIds(Text.AsSpan(0, 5), 11), 5).Count, Is.Zero);
        Assert.That(new TextWindowBatchSource(CharIds.FromIds(Text.AsSpan(0, 6), 11), 5).Count, Is.EqualTo(1));
    }

    [Test]
    public void EveryCharacterButTheFirstIsATargetOnceAcrossTheWindows()
    {
        var source = new TextWindowBatchSource(CharIds.FromIds(Text.AsSpan(0, 21), 11), sequenceLength: 5);
        var (inputs, targets, _) = Fill(source, Enumerable.Range(0, source.Count).ToArray());

        // Time-major over 4 windows: window b's step t is row t·4 + b; in window order they are the text from 1.
        var inOrder = Enumerable.Range(0, 4).SelectMany(b => Enumerable.Range(0, 5).Select(t => targets[(t * 4) + b]));
        Assert.That(inOrder, Is.EqualTo(Text.Skip(1).Take(20)));
        Assert.That(inputs[0], Is.EqualTo(Text[0]));
    }

    [Test]
    public void StreamsAreWordLanguageModelsBatchify()
    {
        // batchify: 23 characters in 3 streams of 7 (2 left out); bptt 3 gives batches at 0 and 3 (a third would need 10).
        var source = new StreamBatchSource(CharIds.FromIds(Text, 11), streams: 3, sequenceLength: 3);

        Assert.That(source.StreamLength, Is.EqualTo(7));
        Assert.That(source.Batches, Is.EqualTo(2));
        Assert.That(source.Count, Is.EqualTo(6));
        for (int batch = 0; batch < 2; batch++)
        {
            var (inputs, targets, _) = Fill(source, Enumerable.Range(batch * 3, 3).ToArray());
            for (int stream = 0; stream < 3; stream++)
            {
                for (int t = 0; t < 3; t++)
                {
                    int at = (stream * 7) + (batch * 3) + t;
                    Assert.That(inputs[(t * 3) + stream], Is.EqualTo(Text[at]), $"batch {batch} stream {stream} step {t}");
                    Assert.That(targets[(t * 3) + stream], Is.EqualTo(Text[at + 1]));
                }
            }
        }
    }

    [Test]
    public void ConsecutiveStreamBatchesContinueEachStream()
    {
        var source = new StreamBatchSource(CharIds.FromIds(Text, 11), streams: 2, sequenceLength: 2);
        var (first, _, _) = Fill(source, [0, 1]);
        var (_, firstTargets, _) = Fill(source, [0, 1]);
        var (second, _, _) = Fill(source, [2, 3]);

        // The next batch's first input in each stream is this batch's last target.
        Assert.That(second[0], Is.EqualTo(firstTargets[2]));
        Assert.That(second[1], Is.EqualTo(firstTargets[3]));
        Assert.That(first[0], Is.EqualTo(Text[0]));
        Assert.That(first[1], Is.EqualTo(Text[11]));
    }

    [Test]
    public void AnExampleOutsideTheSourceIsRefusedInOneLine()
    {
        var windows = new TextWindowBatchSource(CharIds.FromIds(Text, 11), sequenceLength: 5);
        var streams = new StreamBatchSource(CharIds.FromIds(Text, 11), streams: 3, sequenceLength: 3);

        Assert.That(
            () => Fill(windows, [1, 4]),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo("Example 4 at position 1 is outside the text's 4 windows [0, 4). (Parameter 'examples')"));
        Assert.That(
            () => Fill(streams, [-1]),
            Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.EqualTo("Example -1 at position 0 is outside the streams' 6 examples [0, 6). (Parameter 'examples')"));
    }

    private static (int[] Inputs, int[] Targets, int[] Positions) Fill(IBatchSource source, int[] examples)
    {
        int rows = examples.Length * source.RowsPerExample;
        var inputs = new int[examples.Length * source.InputsPerExample];
        var targets = new int[rows];
        var positions = new int[rows];
        source.Fill(examples, inputs, targets, positions);
        return (inputs, targets, positions);
    }
}
