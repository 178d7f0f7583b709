using TorchSharp;
using static TorchSharp.torch;

/// <summary>
/// --model cnn: the image classifier of Tensorlet.Bench's <c>train-step --model cnn</c> (TrainStepCnn.cs) in
/// TorchSharp's modules, on CIFAR-10's shapes: three blocks of Conv2d (3×3, padding 1), BatchNorm2d and ReLU, to 32,
/// 64 and 128 channels, the first two followed by MaxPool2d(2) and the last by AdaptiveAvgPool2d(1), then Flatten and
/// Linear(128, 10).
/// </summary>
internal static class CnnNetwork
{
    /// <summary>The input's channels.</summary>
    public const int Channels = 3;

    /// <summary>The input's height and width.</summary>
    public const int ImageSize = 32;

    /// <summary>The classes.</summary>
    public const int Classes = 10;

    /// <summary>The output channels of the three convolutions.</summary>
    public static readonly int[] Widths = [32, 64, 128];

    /// <summary>The network, in training mode, with TorchSharp's default initialisation.</summary>
    public static nn.Module<Tensor, Tensor> Create()
    {
        var layers = new List<nn.Module<Tensor, Tensor>>();
        int channels = Channels;
        for (int i = 0; i < Widths.Length; i++)
        {
            layers.Add(nn.Conv2d(channels, Widths[i], 3, padding: 1));
            layers.Add(nn.BatchNorm2d(Widths[i]));
            layers.Add(nn.ReLU());
            layers.Add(i < Widths.Length - 1 ? nn.MaxPool2d(2) : nn.AdaptiveAvgPool2d(1));
            channels = Widths[i];
        }

        layers.Add(nn.Flatten());
        layers.Add(nn.Linear(channels, Classes));
        return nn.Sequential(layers);
    }
}
