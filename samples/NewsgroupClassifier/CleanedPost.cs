using Tensorlet.Models.Data;

namespace Tensorlet.Samples.NewsgroupClassifier;

/// <summary>One post after stripping and <see cref="PostCleaning"/>: its split, its group's label and its text.</summary>
internal sealed record CleanedPost(NewsgroupsSubset Split, int Label, string Text);
