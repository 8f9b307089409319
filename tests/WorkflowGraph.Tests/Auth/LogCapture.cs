using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace WorkflowGraph.Tests.Auth;

/// <summary>Keeps every message the app logs, so a test can read what an operator would see on the console.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _messages = new();
    private readonly ConcurrentQueue<Exception> _exceptions = new();

    public IReadOnlyList<string> Messages => [.. _messages];

    /// <summary>The exceptions logged with a message (whose stack traces a console would show).</summary>
    public IReadOnlyList<Exception> Exceptions => [.. _exceptions];

    public ILogger CreateLogger(string categoryName) => new Logger(_messages, _exceptions);

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<string> messages, ConcurrentQueue<Exception> exceptions) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(
            LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel)) return;
            messages.Enqueue(formatter(state, exception));
            if (exception is not null) exceptions.Enqueue(exception);
        }
    }
}
