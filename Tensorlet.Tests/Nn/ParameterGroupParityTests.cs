using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// Optimizers over two parameter groups, the weights and the biases, which alternate in the flat buffer, against
/// torch.optim with the same param_groups (scripts/make_param_group_fixtures.py): parameters after 3 steps, at
/// ModuleTorchParityTests' tolerance.
/// </summary>
public sealed class ParameterGroupParityTests
{
    private static IEnumerable<TestCaseData> Runs()
        => TestDevices.All.SelectMany(device => new[] { "adamw_groups3", "sgd_groups3", "adam_steplr3" }.Select(run => new TestCaseData(device, run)));

    [TestCaseSource(nameof(Runs))]
    public void AnOptimizerOverParameterGroupsMatchesPyTorchAfterThreeSteps(string deviceName, string run)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture("torch/modules_param_groups.safetensors"));
        using var model = ModuleTorchParityTests.Regression(device, fixture);
        using var x = device.FromArray(fixture["x"].Data, 5, 3);
        using var y = device.FromArray(fixture["y"].Data, 5, 2);
        using var mse = new MseLoss();
        var (weights, biases) = ParameterGroupTests.WeightsAndBiases(model.Parameters);
        using IOptimizer optimizer = run switch
        {
            "adamw_groups3" => new AdamW([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.03f, WeightDecay = 0f }], 0.01f, weightDecay: 0.1f),
            "sgd_groups3" => new Sgd([new ParameterGroup(weights) { WeightDecay = 0.01f }, new ParameterGroup(biases) { LearningRate = 0.2f, Momentum = 0.5f }], 0.05f, momentum: 0.9f),
            _ => new Adam([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.03f }], 0.01f),
        };
        var schedule = run == "adam_steplr3" ? new StepLR(optimizer, stepSize: 1, gamma: 0.5) : null;
        ModuleTorchParityTests.AssertThreeStepsMatch(model, optimizer, () =>
        {
            mse.Forward(model.Forward(x), y);
            model.Backward(mse.Backward());
        }, fixture, run, () => schedule?.Step());

        if (schedule is not null)
        {
            Assert.That(new[] { optimizer.GetLearningRate(0), optimizer.GetLearningRate(1) }, Is.EqualTo(fixture["adam_steplr_lrs"].Data), "each group's rate");
        }
    }
}
