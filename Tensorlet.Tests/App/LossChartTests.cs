using System.Text;
using NUnit.Framework;
using Tensorlet.Samples.CharPredict;

namespace Tensorlet.Tests.App;

/// <summary>
/// loss.png says what the run trained on: 20 Newsgroups with its positions n..99 (docs/app.md, "A fair comparison"),
/// or a <c>--text</c>, named by its file or folder, whose validation is every character (no positions).
/// </summary>
public sealed class LossChartTests
{
    private static readonly MetricsRow[] Rows =
    [
        new("ngram", 1, 2.9, 2.8, 2.8, 4.0, 1000, 1),
        new("lstm", 1, 3.1, 3.0, 3.0, 4.3, 500, 3),
        new("lstm", 2, 2.7, 2.6, 2.6, 3.8, 500, 6),
    ];

    [Test]
    public void ATextRunsChartNamesTheTextAndNoPositions()
    {
        var subject = ChartSubject.Text("/usr/share/common-licenses/GPL-3");

        Assert.That(LossChart.Title(subject), Is.EqualTo("Character prediction on GPL-3"));
        Assert.That(LossChart.Legend(Rows, subject), Is.EqualTo(new[] { "ngram train", "ngram validation", "lstm train", "lstm validation" }));
    }

    [Test]
    public void A20NewsgroupsRunsChartShowsPositionsNTo99AndTheRecurrentModelsAllPositions()
    {
        var subject = ChartSubject.Newsgroups;

        Assert.That(LossChart.Title(subject), Is.EqualTo("Character prediction on 20 Newsgroups"));
        Assert.That(LossChart.Legend(Rows, subject), Is.EqualTo(new[]
        {
            "ngram train", "ngram validation (positions n..99)", "lstm train", "lstm validation (positions n..99)", "lstm validation (all positions)",
        }));
    }

    [Test]
    public void TheTextsChartIsNamedByItsFileOrFolder()
    {
        var folder = AppHarness.TempFolder();
        try
        {
            var texts = Directory.CreateDirectory(Path.Combine(folder, "my texts")).FullName;
            var file = Path.Combine(texts, "poems.txt");
            File.WriteAllText(file, string.Concat(Enumerable.Repeat("Roses are red, violets are blue.\n", 20)), new UTF8Encoding(false));

            Assert.That(TextData.Load(file, lowercase: false, validationFraction: 0.05).ChartSubject, Is.EqualTo(new ChartSubject("poems.txt", ScoredOnCommonPositions: false)));
            Assert.That(TextData.Load(texts + Path.DirectorySeparatorChar, lowercase: false, validationFraction: 0.05).ChartSubject.Name, Is.EqualTo("my texts"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
