using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using static Tensorlet.Tests.Nn.ModuleTorchParityTests;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// A recurrent module's run against one case of a PyTorch fixture in the layout of scripts/make_bidirectional_fixtures.py
/// and scripts/make_rnn_fixtures.py: the case's tensors under the prefix <c>{name}.</c>, dense x or token ids shaped as
/// the module takes them, the loss sum(output · w), and the output, final state, gradients and three Adam steps.
/// </summary>
internal static class RecurrentParity
{
    /// <summary>
    /// Runs <paramref name="module"/>, its parameters and initial state already the case's, on the case's x (or ids)
    /// and checks its output against <c>{name}.out</c>, each of <paramref name="finalState"/>'s values against the
    /// fixture's tensor of that key, every parameter gradient and dL/dx (none for ids) at ModuleTorchParityTests'
    /// tolerances, and the parameters after three Adam steps (lr 0.01) against <c>{name}.adam3.&lt;param&gt;</c>.
    /// </summary>
    public static void AssertRunGradientsAndAdamMatch(RnnBase module, Device device, SafeTensorsFile fixture, string name, Func<IEnumerable<(string Key, float[] Values)>> finalState)
    {
        var w = fixture[$"{name}.w"];
        int[] sequence = [w.Shape[0], w.Shape[1]];
        bool ids = fixture.Tensors.ContainsKey($"{name}.ids");
        using var x = ids ? null : device.FromArray(fixture[$"{name}.x"].Data, [.. sequence, module.InputSize]);
        using var tokens = ids ? device.IndexFromArray(fixture[$"{name}.ids"].ToInt32Array(), sequence) : null;
        using var dy = device.FromArray(w.Data, [.. w.Shape]);
        Tensor? dx = null;
        Tensor Run() => tokens is null ? module.Forward(x!) : module.Forward(tokens);
        void ForwardAndBackward()
        {
            dy.CopyFrom(w.Data); // Backward uses its argument as scratch
            Run();
            dx = module.Backward(dy);
        }

        module.Parameters.ZeroGradients();
        var output = Run();
        Assert.That(output.Shape, Is.EqualTo(w.Shape));
        AssertClose(output.ToArray(), fixture[$"{name}.out"].Data, 1e-5, "output");
        foreach (var (key, values) in finalState())
        {
            AssertClose(values, fixture[$"{name}.{key}"].Data, 1e-5, key);
        }

        dx = module.Backward(dy);
        foreach (var p in module.Parameters.Parameters)
        {
            AssertClose(p.Gradient.ToArray(), fixture[$"{name}.grad.{p.Name}"].Data, 1e-4, $"grad.{p.Name}");
        }

        if (ids)
        {
            Assert.That(dx, Is.Null, "token ids have no gradient");
        }
        else
        {
            Assert.That(dx!.Shape, Is.EqualTo(x!.Shape), "dL/dx in the input's layout");
            AssertClose(dx.ToArray(), fixture[$"{name}.grad.x"].Data, 1e-4, "grad.x");
        }

        using var adam = new Adam(module.Parameters, 0.01f);
        AssertThreeStepsMatch(module, adam, ForwardAndBackward, fixture, $"{name}.adam3");
    }
}
