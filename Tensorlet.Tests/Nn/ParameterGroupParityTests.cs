using NUnit.Framework;
using Tensorlet.Models.Checkpoints;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Nn;

/// <summary>
/// Optimizers over two parameter groups, the weights and the biases, which alternate in the flat buffer, against
/// torch.optim with the same param_groups (scripts/make_param_group_fixtures.py; per-group betas and eps from
/// scripts/make_optimizer_fixtures.py): parameters after 3 steps, at ModuleTorchParityTests' tolerance.
/// </summary>
public sealed class ParameterGroupParityTests
{
    private static IEnumerable<TestCaseData> Runs()
        => TestDevices.All.SelectMany(device => new[]
        {
            ("modules_param_groups", "adamw_groups3"), ("modules_param_groups", "sgd_groups3"), ("modules_param_groups", "adam_steplr3"),
            ("modules_group_betas", "adam_betas3"), ("modules_group_betas", "adamw_betas3"),
        }.Select(run => new TestCaseData(device, run.Item1, run.Item2)));

    [TestCaseSource(nameof(Runs))]
    public void AnOptimizerOverParameterGroupsMatchesPyTorchAfterThreeSteps(string deviceName, string file, string run)
    {
        var device = TestDevices.Get(deviceName);
        var fixture = SafeTensorsFile.Read(TestData.Fixture($"torch/{file}.safetensors"));
        using var model = ModuleTorchParityTests.Regression(device, fixture);
        using var x = device.FromArray(fixture["x"].Data, 5, 3);
        using var y = device.FromArray(fixture["y"].Data, 5, 2);
        using var mse = new MseLoss();
        var (weights, biases) = ParameterGroupTests.WeightsAndBiases(model.Parameters);
        using IOptimizer optimizer = run switch
        {
            "adamw_groups3" => new AdamW([new ParameterGroup(weights), new ParameterGroup(biases) { LearningRate = 0.03f, WeightDecay = 0f }], 0.01f, weightDecay: 0.1f),
            "sgd_groups3" => new Sgd([new ParameterGroup(weights) { WeightDecay = 0.01f }, new ParameterGroup(biases) { LearningRate = 0.2f, Momentum = 0.5f }], 0.05f, momentum: 0.9f),
            "adam_betas3" => new Adam([new ParameterGroup(weights), new ParameterGroup(biases) { Beta1 = 0.5f, Beta2 = 0.9f, Epsilon = 1e-3f }], 0.01f),
            "adamw_betas3" => new AdamW([new ParameterGroup(weights) { Epsilon = 1e-4f }, new ParameterGroup(biases) { Beta1 = 0.8f, Beta2 = 0.99f, WeightDecay = 0f }], 0.02f, beta1: 0.85f, beta2: 0.995f, weightDecay: 0.1f),
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
