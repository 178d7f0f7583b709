using NUnit.Framework;
using Tensorlet.Nn;

namespace Tensorlet.Tests.Nn;

/// <summary><see cref="Size2d"/>: PyTorch's int-or-pair sizes, an int on both axes and a pair as (height, width).</summary>
public sealed class Size2dTests
{
    [Test]
    public void AnIntIsTheSameOnBothAxesAndAPairIsHeightThenWidth()
    {
        Size2d square = 3;
        Size2d pair = (3, 5);
        Assert.That((square.Height, square.Width), Is.EqualTo((3, 3)));
        Assert.That((pair.Height, pair.Width), Is.EqualTo((3, 5)));
        Assert.That(Size2d.FromInt32(4), Is.EqualTo(new Size2d(4, 4)));
        Assert.That(Size2d.FromValueTuple((2, 7)), Is.EqualTo(new Size2d(2, 7)));
        Assert.That(pair.ToString(), Is.EqualTo("(3, 5)"));
        Assert.That(new Size2d(-1, 2).ToString(), Is.EqualTo("(-1, 2)"));
        Assert.That(square.ToString(), Is.EqualTo("3"), "one number when both axes agree, as PyTorch prints it");

        using var pool = new MaxPool2d((3, 5), stride: 2);
        Assert.That(pool.KernelSize, Is.EqualTo(new Size2d(3, 5)), "a pair argument reads (height, width)");
        Assert.That(pool.Stride, Is.EqualTo(new Size2d(2, 2)), "an int argument is the same on both axes");
        Assert.That(pool.Dilation, Is.EqualTo(new Size2d(1, 1)), "dilation defaults to 1");
        Assert.That(pool.Padding, Is.EqualTo(new Size2d(0, 0)), "padding defaults to 0");
        using var avg = new AvgPool2d((2, 4));
        Assert.That(avg.Stride, Is.EqualTo(new Size2d(2, 4)), "stride defaults to the kernel size");
    }
}
