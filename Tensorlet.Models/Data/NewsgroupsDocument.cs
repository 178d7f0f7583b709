namespace Tensorlet.Models.Data;

/// <summary>One raw post of the corpus, decoded as latin-1 (each byte is one character), as scikit-learn reads it.</summary>
/// <param name="Id">Its split, group and file name.</param>
/// <param name="Text">The whole file, headers included.</param>
public sealed record NewsgroupsDocument(NewsgroupsDocumentId Id, string Text);
