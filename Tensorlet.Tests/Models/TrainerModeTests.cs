using NUnit.Framework;
using Tensorlet.Models.Modeling;
using Tensorlet.Models.Sampling;
using Tensorlet.Models.Training;
using Tensorlet.Nn;
using Tensorlet.Optim;
using Tensorlet.Tests.Infrastructure;

namespace Tensorlet.Tests.Models;

/// <summary>
/// Training, validation, scoring and sampling leave each module in the mode the caller gave it: a frozen BatchNorm1d in
/// evaluation inside a model in training keeps its running statistics through a Trainer run with validation, while a
/// model left in evaluation trains in training mode (dropout on), as PyTorch's loop that calls model.train() once.
/// </summary>
public sealed class TrainerModeTests
{
    [Test]
    public void AFrozenBatchNormInEvaluationKeepsItsRunningStatisticsThroughTrainingAndValidation()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Relu(), new Linear(4, 1));
        model.Build(device, seed: 1);
        var batchNorm = (BatchNorm1d)model[1];
        var source = Regression(16);
        using var adam = new Adam(model.Parameters, 0.01f);
        using var mse = new MseLoss();
        new Trainer(model, mse, adam, new TrainerOptions { Epochs = 2, BatchSize = 4 }).Train(source, null);
        batchNorm.SetRequiresGradient(false);
        batchNorm.Eval();
        var statistics = (batchNorm.RunningMean!.Value.ToArray(), batchNorm.RunningVar!.Value.ToArray(), batchNorm.NumBatchesTracked);
        var weights = (batchNorm.Weight!.Value.ToArray(), batchNorm.Bias!.Value.ToArray());
        var head = ((Linear)model[3]).Weight.Value.ToArray();

        var result = new Trainer(model, mse, adam, new TrainerOptions { Epochs = 2, BatchSize = 4 }).Train(source, Regression(6));

        Assert.That(result.Epochs.All(e => e.Validation is not null), Is.True, "validation ran after every epoch");
        Assert.That((batchNorm.RunningMean.Value.ToArray(), batchNorm.RunningVar.Value.ToArray(), batchNorm.NumBatchesTracked), Is.EqualTo(statistics), "running statistics and count");
        Assert.That((batchNorm.Weight.Value.ToArray(), batchNorm.Bias!.Value.ToArray()), Is.EqualTo(weights), "the frozen weight and bias");
        Assert.That(((Linear)model[3]).Weight.Value.ToArray(), Is.Not.EqualTo(head), "the rest of the model trained");
        Assert.That((model.Training, batchNorm.Training, model[0].Training, model[3].Training), Is.EqualTo((true, false, true, true)), "each module's mode as given");
    }

    [Test]
    public void AModelLeftInEvaluationTrainsInTrainingModeWithDropoutOn()
    {
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new Linear(3, 8), new BatchNorm1d(8), new Dropout(0.5f), new Linear(8, 1));
        model.Build(device, seed: 2);
        model.Eval(); // as after sampling or scoring
        using var adam = new Adam(model.Parameters, 0.01f);
        using var mse = new MseLoss();
        var trainer = new Trainer(model, mse, adam, new TrainerOptions { Epochs = 2, BatchSize = 4 });
        var modes = new List<(bool, bool)>();
        trainer.BatchCompleted += _ => modes.Add((model[1].Training, model[2].Training));

        trainer.Train(Regression(12), Regression(5));

        Assert.That(modes, Has.Count.EqualTo(6).And.All.EqualTo((true, true)), "batch norm and dropout in training at every batch, after validation too");
        Assert.That(((BatchNorm1d)model[1]).NumBatchesTracked, Is.EqualTo(6));
        Assert.That(model.Training, Is.True);
    }

    [Test]
    public void ModuleModesPutsATreeInEvaluationAndGivesEveryModuleBackItsMode()
    {
        // A scoring loop of the caller's own, as samples/NewsgroupClassifier's: a frozen layer stays in evaluation after.
        var device = TestDevices.Get("cpu");
        using var model = new Sequential(new Linear(3, 4), new BatchNorm1d(4), new Dropout(0.5f), new Linear(4, 2));
        model.Build(device, seed: 1);
        model[1].Eval();
        var modes = new ModuleModes(model);
        modes.Eval();
        Assert.That(new[] { model, model[0], model[1], model[2], model[3] }.Select(m => m.Training), Is.All.False, "in evaluation");
        modes.Restore();
        Assert.That((model.Training, model[0].Training, model[1].Training, model[2].Training, model[3].Training), Is.EqualTo((true, true, false, true, true)));
    }

    [Test]
    public void ModuleModesRefusesANullRoot()
    {
        var ex = Assert.Throws<ArgumentNullException>(() => _ = new ModuleModes(null!));
        Assert.That(ex!.ParamName, Is.EqualTo("root"));
    }

    [Test]
    public void ScoringAndSamplingGiveEveryModuleBackItsMode()
    {
        var device = TestDevices.Get("cpu");
        using var charModel = new LstmCharModel(device, 5, 8, 1, dropout: 0f, seed: 1);
        charModel[0].Eval();
        Evaluator.Evaluate(charModel, new SequenceBatchSource([.. Enumerable.Range(0, 18).Select(i => i % 5)], 6));
        Assert.That((charModel.Training, charModel[0].Training, charModel[1].Training), Is.EqualTo((true, false, true)), "after Evaluate");
        Evaluator.LogProbabilities(charModel, [1, 2, 3, 4]);
        Assert.That((charModel.Training, charModel[0].Training, charModel[1].Training), Is.EqualTo((true, false, true)), "after LogProbabilities");

        using var model = new Sequential(new Embedding(5, 4), new Gru(4, 6), new Linear(6, 5));
        model.Build(device, seed: 3);
        model[1].Eval();
        SequenceGenerator.Generate(model, [1, 2], 4, 1f, seed: 1);
        Assert.That((model.Training, model[0].Training, model[1].Training, model[2].Training), Is.EqualTo((true, true, false, true)), "after Generate");
    }

    // Targets of a fixed linear function of three inputs.
    private static TensorBatchSource<float, float> Regression(int count)
    {
        var inputs = Enumerable.Range(0, count * 3).Select(i => (float)((i * 7) % 5) - 2f).ToArray();
        var targets = Enumerable.Range(0, count).Select(i => inputs[3 * i] - (0.5f * inputs[(3 * i) + 1]) + 0.25f).ToArray();
        return new TensorBatchSource<float, float>(inputs, [3], targets, [1]);
    }
}
