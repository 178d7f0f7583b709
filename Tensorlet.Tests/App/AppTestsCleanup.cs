using NUnit.Framework;

namespace Tensorlet.Tests.App;

/// <summary>Removes the run shared by the app tests once they have all run.</summary>
[SetUpFixture]
public sealed class AppTestsCleanup
{
    [OneTimeTearDown]
    public void DeleteSharedRun() => AppHarness.DeleteSharedRun();
}
