using Tensorlet.Nn;

namespace Tensorlet.Bench.TrainStep;

/// <summary>
/// The small image classifier <c>train-step --model cnn</c> times, on CIFAR-10's shapes (3×32×32 images, 10 classes):
/// three blocks of Conv2d (3×3, padding 1) → BatchNorm2d → ReLU, 32, 64 and 128 channels, the first two followed by
/// MaxPool2d(2) and the last by AdaptiveAvgPool2d(1), then Flatten and Linear(128, 10). bench/libtorch-train-step builds
/// the same network from TorchSharp's modules.
/// </summary>
internal static class TrainStepCnn
{
    /// <summary>The input's channels.</summary>
    public const int Channels = 3;

    /// <summary>The input's height and width.</summary>
    public const int ImageSize = 32;

    /// <summary>The classes.</summary>
    public const int Classes = 10;

    /// <summary>The output channels of the three convolutions.</summary>
    public static ReadOnlySpan<int> Widths => [32, 64, 128];

    /// <summary>The network, not yet built.</summary>
    public static Sequential Create()
    {
        var layers = new List<Module>();
        int channels = Channels;
        for (int i = 0; i < Widths.Length; i++)
        {
            layers.AddRange([new Conv2d(channels, Widths[i], 3, padding: 1), new BatchNorm2d(Widths[i]), new Relu()]);
            layers.Add(i < Widths.Length - 1 ? new MaxPool2d(2) : new AdaptiveAvgPool2d(1));
            channels = Widths[i];
        }

        layers.AddRange([new Flatten(), new Linear(channels, Classes)]);
        return new Sequential([.. layers]);
    }
}
