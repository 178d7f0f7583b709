using System.Reflection;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using NUnit.Framework;
using Tensorlet.Backends.Ilgpu;
using Tensorlet.Kernels;
using Tensorlet.Kernels.Ilgpu;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Kernels;

/// <summary>
/// Compiles every kernel the <c>cuda</c> backend can load (<see cref="BackendKernels"/>) to PTX without a GPU, for Volta,
/// Ampere and Hopper with the PTX ISA that ILGPU picks under a CUDA 12.4 and a CUDA 13.0 driver, and checks what a GPU
/// would otherwise be the first to tell: static shared memory within the 48 KiB every CUDA GPU gives a group without
/// opting in, no local memory (.local), no function left for the driver to link (.extern), and no approximate instruction
/// except those <see cref="AllowedApproximations"/> justifies.
/// </summary>
public sealed partial class KernelPtxTests
{
    private const int SharedMemoryLimit = 48 * 1024;

    /// <summary>
    /// The approximate PTX instructions a kernel may contain: none. Division, reciprocal and square root compile to their
    /// IEEE-rounded forms (div.rn, rcp.rn, sqrt.rn); exp, log and tanh come from <see cref="KernelMath"/>. An instruction
    /// added here needs its reason beside it.
    /// </summary>
    private static readonly string[] AllowedApproximations = [];

    private static readonly CudaArchitecture[] Architectures = [CudaArchitecture.SM_70, CudaArchitecture.SM_80, CudaArchitecture.SM_90];

    private static readonly CudaDriverVersion[] Drivers = [CudaDriverVersion.FromMajorMinor(12, 4), CudaDriverVersion.FromMajorMinor(13, 0)];

    private static readonly Lazy<Context> SharedContext = new(IlgpuBackend.CreateCudaContext);

    private static IEnumerable<TestCaseData> Kernels()
        => BackendKernels.All.Select(kernel => new TestCaseData(kernel).SetArgDisplayNames(BackendKernels.NameOf(kernel)));

    [Test]
    public void TheBackendLoadsTheKernelsWeKnowOf()
    {
        // Guards the IL scan: were it to find nothing, the test cases below would pass vacuously.
        string[] known =
        [
            $"{nameof(ElementwiseKernels)}.{nameof(ElementwiseKernels.ActivationForward)}",
            $"{nameof(ElementwiseKernels)}.{nameof(ElementwiseKernels.ActivationBackward)}",
            $"{nameof(ElementwiseKernels)}.{nameof(ElementwiseKernels.LeakyReluForward)}",
            $"{nameof(ElementwiseKernels)}.{nameof(ElementwiseKernels.LeakyReluBackward)}",
            $"{nameof(GatherScatterKernels)}.{nameof(GatherScatterKernels.Gather)}",
            $"{nameof(BiasKernels)}.{nameof(BiasKernels.SumColumnsPartial)}",
            $"{nameof(ReductionKernels)}.{nameof(ReductionKernels.SumOfSquaresPartial)}",
            $"{nameof(ElementwiseLossKernels)}.{nameof(ElementwiseLossKernels.Partial)}",
            $"{nameof(DropoutKernel)}.{nameof(DropoutKernel.Apply)}",
            $"{nameof(AdamKernel)}.{nameof(AdamKernel.Step)}",
            $"{nameof(RMSpropKernel)}.{nameof(RMSpropKernel.Step)}",
            $"{nameof(LstmCellKernels)}.{nameof(LstmCellKernels.Forward)}",
            $"{nameof(LstmCellKernels)}.{nameof(LstmCellKernels.Backward)}",
            $"{nameof(GruCellKernels)}.{nameof(GruCellKernels.Forward)}",
            $"{nameof(GruCellKernels)}.{nameof(GruCellKernels.Backward)}",
            $"{nameof(SoftmaxKernels)}.{nameof(SoftmaxKernels.CrossEntropy)}",
            $"{nameof(SoftmaxKernels)}.{nameof(SoftmaxKernels.WithTemperature)}",
            $"{nameof(SoftmaxKernels)}.{nameof(SoftmaxKernels.LogSoftmax)}",
            $"{nameof(SoftmaxKernels)}.{nameof(SoftmaxKernels.Backward)}<{nameof(SoftmaxKind)}>",
            $"{nameof(SoftmaxKernels)}.{nameof(SoftmaxKernels.Backward)}<{nameof(LogSoftmaxKind)}>",
            $"{nameof(NllLossKernels)}.{nameof(NllLossKernels.Rows)}",
            $"{nameof(LayerNormKernels)}.{nameof(LayerNormKernels.Forward)}",
            $"{nameof(LayerNormKernels)}.{nameof(LayerNormKernels.InputGradient)}",
            $"{nameof(LayerNormKernels)}.{nameof(LayerNormKernels.WeightGradientPartial)}",
            $"{nameof(BatchNormKernels)}.{nameof(BatchNormKernels.SumsPartial)}",
            $"{nameof(BatchNormKernels)}.{nameof(BatchNormKernels.Shift)}",
            $"{nameof(BatchNormKernels)}.{nameof(BatchNormKernels.Finish)}",
            $"{nameof(BatchNormKernels)}.{nameof(BatchNormKernels.Normalize)}",
            $"{nameof(BatchNormKernels)}.{nameof(BatchNormKernels.GradientSumsPartial)}",
            $"{nameof(BatchNormKernels)}.{nameof(BatchNormKernels.GradientSumsFinish)}",
            $"{nameof(BatchNormKernels)}.{nameof(BatchNormKernels.InputGradient)}",
            $"{nameof(UnfoldKernels)}.{nameof(UnfoldKernels.Unfold)}",
            $"{nameof(UnfoldKernels)}.{nameof(UnfoldKernels.Fold)}",
            $"{nameof(Unfold2dKernels)}.{nameof(Unfold2dKernels.Unfold)}",
            $"{nameof(Unfold2dKernels)}.{nameof(Unfold2dKernels.Fold)}",
            $"{nameof(DepthwiseConv1dKernels)}.{nameof(DepthwiseConv1dKernels.Forward)}",
            $"{nameof(DepthwiseConv1dKernels)}.{nameof(DepthwiseConv1dKernels.BackwardInput)}",
            $"{nameof(DepthwiseConv1dKernels)}.{nameof(DepthwiseConv1dKernels.BackwardWeightPartial)}",
            $"{nameof(DepthwiseConv1dKernels)}.{nameof(DepthwiseConv1dKernels.BackwardWeightFinish)}",
            $"{nameof(PositionGatherKernels)}.{nameof(PositionGatherKernels.Forward)}",
            $"{nameof(PositionGatherKernels)}.{nameof(PositionGatherKernels.Backward)}",
            $"{nameof(PoolKernels)}.{nameof(PoolKernels.MaxForward)}",
            $"{nameof(PoolKernels)}.{nameof(PoolKernels.MaxBackward)}",
            $"{nameof(PoolKernels)}.{nameof(PoolKernels.AvgForward)}",
            $"{nameof(PoolKernels)}.{nameof(PoolKernels.AvgBackward)}",
            $"{nameof(GemmTiledKernel)}.{nameof(GemmTiledKernel.Run)}<{nameof(GemmTileGpu)}>",
        ];
        var names = BackendKernels.All.Select(BackendKernels.NameOf).ToList();
        TestContext.Out.WriteLine($"The backend loads {names.Count} kernels: {string.Join(", ", names)}.");
        Assert.That(names, Is.SupersetOf(known));
    }

    [Test]
    public void TheDriversWeTargetGetTheInstructionSetsWeCompileFor()
    {
        Assert.Multiple(() =>
        {
            foreach (var architecture in Architectures)
            {
                Assert.That(CudaAccelerator.GetInstructionSet(architecture, Drivers[0]), Is.EqualTo(CudaInstructionSet.ISA_84), $"{architecture} under CUDA 12.4");

                // ILGPU 1.5.3 knows PTX ISA up to 8.8 (CUDA 12.9); a CUDA 13 driver gets that, which it accepts.
                Assert.That(CudaAccelerator.GetInstructionSet(architecture, Drivers[1]), Is.EqualTo(CudaInstructionSet.ISA_88), $"{architecture} under CUDA 13.0");
            }
        });
    }

    [TestCaseSource(nameof(Kernels))]
    public void CompilesForEveryTargetWithinLimitsAndExactMath(MethodInfo kernel)
    {
        var entry = IsImplicitlyGrouped(kernel)
            ? EntryPointDescription.FromImplicitlyGroupedKernel(kernel)
            : EntryPointDescription.FromExplicitlyGroupedKernel(kernel);
        Assert.Multiple(() =>
        {
            foreach (var architecture in Architectures)
            {
                foreach (var instructionSet in Drivers.Select(driver => CudaAccelerator.GetInstructionSet(architecture, driver)).Distinct())
                {
                    string target = $"{architecture} {instructionSet}";
                    string ptx = Compile(entry, kernel, architecture, instructionSet);
                    Assert.That(ptx, Does.Contain(".entry"), target);
                    Assert.That(TargetOf(ptx), Is.InRange(70, (10 * architecture.Major) + architecture.Minor), $"{target}: .target");
                    Assert.That(StaticSharedBytes(ptx), Is.LessThanOrEqualTo(SharedMemoryLimit), $"{target}: static shared memory");
                    Assert.That(ptx, Does.Not.Contain(".local"), $"{target}: local memory");
                    Assert.That(ptx, Does.Not.Contain(".extern"), $"{target}: a function the driver would have to link");
                    Assert.That(Approximations(ptx).Except(AllowedApproximations), Is.Empty, $"{target}: approximate instructions");
                }
            }
        });
    }

    /// <summary>
    /// The PTX target as 10·major + minor. ILGPU 1.5.3 writes at most sm_80: Hopper gets sm_80 PTX, which its driver
    /// compiles for sm_90 when the kernel is loaded.
    /// </summary>
    internal static int TargetOf(string ptx)
        => int.Parse(TargetDirective().Match(ptx).Groups["target"].Value, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The bytes of every <c>.shared</c> array a PTX module declares with a size (dynamic shared memory has none).</summary>
    internal static long StaticSharedBytes(string ptx)
        => SharedDeclaration().Matches(ptx).Sum(match => long.Parse(match.Groups["bytes"].Value, System.Globalization.CultureInfo.InvariantCulture)
            * ElementBytes(match.Groups["type"].Value));

    /// <summary>The distinct approximate instructions in a PTX module, with their modifiers (ex2.approx.ftz.f32).</summary>
    internal static IEnumerable<string> Approximations(string ptx)
        => ApproximateInstruction().Matches(ptx).Select(match => match.Value).Distinct();

    // An auto-grouped kernel takes its index first; an explicitly grouped one reads Grid and Group instead.
    private static bool IsImplicitlyGrouped(MethodInfo kernel)
    {
        var parameters = kernel.GetParameters();
        return parameters.Length > 0 && parameters[0].ParameterType is var first
            && (first == typeof(Index1D) || first == typeof(Index2D) || first == typeof(Index3D));
    }

    private static string Compile(EntryPointDescription entry, MethodInfo kernel, CudaArchitecture architecture, CudaInstructionSet instructionSet)
    {
        using var backend = new PTXBackend(SharedContext.Value, new CudaCapabilityContext(architecture), architecture, instructionSet, null);
        var compiled = (PTXCompiledKernel)backend.Compile(entry, default(KernelSpecialization));
        if (Environment.GetEnvironmentVariable("TENSORLET_PTX_DUMP") is { Length: > 0 } folder)
        {
            // For reading the PTX by eye: TENSORLET_PTX_DUMP=/tmp/ptx dotnet test --filter KernelPtxTests
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, $"{BackendKernels.NameOf(kernel)}.{architecture}.ISA{instructionSet}.ptx"), compiled.PTXAssembly);
        }

        return compiled.PTXAssembly;
    }

    private static int ElementBytes(string type) => int.Parse(type[1..], System.Globalization.CultureInfo.InvariantCulture) / 8;

    [GeneratedRegex(@"\.shared\s+(?:\.align\s+\d+\s+)?\.(?<type>[bsuf](?:8|16|32|64))\s+[^\s\[;]+\[(?<bytes>\d+)\]")]
    private static partial Regex SharedDeclaration();

    [GeneratedRegex(@"^\.target sm_(?<target>\d+)", RegexOptions.Multiline)]
    private static partial Regex TargetDirective();

    [GeneratedRegex(@"\b[a-z0-9]+\.approx(?:\.[a-z0-9]+)*")]
    private static partial Regex ApproximateInstruction();
}
