namespace WorkflowGraph.Transport.Ide;

/// <summary>
/// An Authorization header Banana Cake Pop may send by default (development mode's admin token). Where nothing provides
/// one, or it is null, the IDE is given no token and the analyst brings their own.
/// </summary>
public interface IIdeDefaultAuthorization
{
    string? Authorization { get; }
}
