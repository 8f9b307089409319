using System.Net;
using System.Net.Sockets;

namespace WorkflowGraph.Hosting;

public static class FreeTcpPort
{
    /// <summary>A loopback port nothing listens on right now (another process may take it before it is bound).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
