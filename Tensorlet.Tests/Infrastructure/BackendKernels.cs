using System.Reflection;
using System.Reflection.Emit;

namespace Tensorlet.Tests.Infrastructure;

/// <summary>
/// Every ILGPU kernel the backends in Tensorlet.Core can load, found by reading the IL of Tensorlet.Core: a kernel is
/// loaded through a delegate, and a delegate to a static method is made with <c>ldftn</c>, so every <c>ldftn</c> of a
/// method of the Tensorlet.Kernels.Ilgpu namespace is a kernel the backend loads (generic kernels with the type
/// arguments the backend gives them). A kernel added later is found here without anyone listing it.
/// </summary>
internal static class BackendKernels
{
    private const string KernelNamespace = "Tensorlet.Kernels.Ilgpu";

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(field => (OpCode)field.GetValue(null)!)
        .ToDictionary(code => code.Value);

    /// <summary>The kernels, each once, ordered by a readable name.</summary>
    public static IReadOnlyList<MethodInfo> All { get; } = Find();

    /// <summary>A method's readable name: Type.Method, with generic arguments.</summary>
    public static string NameOf(MethodInfo kernel)
    {
        string arguments = kernel.IsGenericMethod ? $"<{string.Join(", ", kernel.GetGenericArguments().Select(t => t.Name))}>" : string.Empty;
        return $"{kernel.DeclaringType!.Name}.{kernel.Name}{arguments}";
    }

    private static List<MethodInfo> Find()
    {
        var core = typeof(Device).Assembly;
        var found = new Dictionary<string, MethodInfo>();
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (var type in core.GetTypes())
        {
            foreach (var method in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
            {
                foreach (var target in FunctionPointers(method))
                {
                    if (target is MethodInfo { IsStatic: true } kernel && kernel.DeclaringType?.Namespace == KernelNamespace)
                    {
                        found.TryAdd(NameOf(kernel), kernel);
                    }
                }
            }
        }

        return [.. found.OrderBy(pair => pair.Key, StringComparer.Ordinal).Select(pair => pair.Value)];
    }

    /// <summary>The targets of the <c>ldftn</c> instructions in a method body, decoded instruction by instruction.</summary>
    private static IEnumerable<MethodBase> FunctionPointers(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il is null)
        {
            yield break;
        }

        int offset = 0;
        while (offset < il.Length)
        {
            short value = il[offset] == 0xFE ? (short)(0xFE00 | il[offset + 1]) : il[offset];
            var code = OpCodesByValue[value];
            offset += code.Size;
            if (code == OpCodes.Ldftn)
            {
                int token = BitConverter.ToInt32(il, offset);
                yield return method.Module.ResolveMethod(
                    token,
                    method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : null,
                    method.IsGenericMethod ? method.GetGenericArguments() : null)!;
            }

            offset += OperandSize(code, il, offset);
        }
    }

    private static int OperandSize(OpCode code, byte[] il, int offset) => code.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + (4 * BitConverter.ToInt32(il, offset)),
        _ => 4,
    };
}
