using System.Globalization;

namespace Tensorlet.Samples.NewsgroupClassifier;

/// <summary>
/// The memory a run needs, estimated from the options and the posts before anything is allocated, and refused with one
/// line when it exceeds what this process may use (as CharPredict's TrainingMemory). Deliberately generous, it counts:
/// <list type="bullet">
/// <item>on the host, every post's window of character ids (4 bytes per character, both splits) and the batch buffers;</item>
/// <item>on the device, the parameters four times (weights, gradients, Adam's two moments) and, per character of a
/// batch, every value the backward pass keeps (<see cref="ClassifierModels.ActivationFloatsPerCharacter"/>: about
/// 3 × E + 10 × H floats for the LSTM, 20 × E + 12 × C for the CNN).</item>
/// </list>
/// On the cpu (and ilgpu-cpu) the device's memory is the host's, so both count against it; on a GPU only the host's
/// part can be checked here, as the library does not report the GPU's memory.
/// </summary>
internal static class RunMemory
{
    private const int BytesPerParameter = 16;

    /// <summary>What this process may allocate: the machine's memory, or the container's (or GC heap's) limit where there is one.</summary>
    public static long Available => GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;

    /// <summary>The host's part and the device's part of a run's memory, in bytes (doubles, which no option can overflow).</summary>
    public static (double Host, double Device) Estimate(ClassifierOptions options, int posts, int batch, int classes)
    {
        double steps = options.MaxChars;
        double host = 4.0 * steps * (posts + (2.0 * batch));
        double parameters = ClassifierModels.Parameters(options.Model, options.Width, options.Embedding, classes);
        double activations = steps * batch * ClassifierModels.ActivationFloatsPerCharacter(options) * sizeof(float);
        return (host, (parameters * BytesPerParameter) + activations);
    }

    /// <summary>Refuses a run that would not fit in <see cref="Available"/>.</summary>
    /// <exception cref="ArgumentException">The run needs more memory than this process may use.</exception>
    public static void Check(ClassifierOptions options, int posts, int batch, int classes, Tensorlet.Device device)
    {
        var (host, onDevice) = Estimate(options, posts, batch, classes);
        bool shared = device.Kind != DeviceKind.Cuda;
        double needed = shared ? host + onDevice : host;
        long available = Available;
        if (needed > available)
        {
            const double GiB = 1 << 30;
            string widthOption = ClassifierModels.WidthOption(options.Model);
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"Training on {posts} posts of {options.MaxChars} characters with --batch {batch}, {widthOption} {options.Width} and --embedding {options.Embedding} needs about {needed / GiB:F1} GiB{(shared ? $" ({host / GiB:F1} GiB of character ids, {onDevice / GiB:F1} GiB for the model and its activations)" : " of host memory for the character ids")}; this process may use {available / GiB:F1} GiB. Use a smaller --max-chars, --limit, --batch, {widthOption} or --embedding."));
        }
    }
}
