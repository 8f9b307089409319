using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace WorkflowGraph.Tests.WebSockets;

/// <summary>
/// A graphql-transport-ws client reduced to a blocking socket and nothing else held between calls: the handshake, the
/// init and one <c>subscribe</c>, then reading a message when asked. Many of them cost the test process little, so
/// what a test measures over hundreds of connections is the server's part.
/// </summary>
public sealed class RawSubscriber : IDisposable
{
    private readonly Socket _socket;

    private RawSubscriber(Socket socket) => _socket = socket;

    /// <summary>Connects, upgrades with the subprotocol, sends <c>connection_init</c> with <paramref name="authorization"/>
    /// and waits for the ack.</summary>
    public static RawSubscriber Connect(Uri webSocketUri, string authorization)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            ReceiveTimeout = (int)GraphQLWsTestClient.DefaultTimeout.TotalMilliseconds,
            SendTimeout = (int)GraphQLWsTestClient.DefaultTimeout.TotalMilliseconds,
        };
        var client = new RawSubscriber(socket);
        try
        {
            socket.Connect(new IPEndPoint(IPAddress.Parse(webSocketUri.Host), webSocketUri.Port));
            client.Upgrade(webSocketUri);
            client.Send(new { type = "connection_init", payload = new { Authorization = authorization } });
            var ack = client.Receive();
            if (ack.GetProperty("type").GetString() != "connection_ack")
                throw new InvalidOperationException($"expected connection_ack, got {ack}");
            return client;
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Sends a <c>subscribe</c> of <paramref name="query"/> as operation <paramref name="id"/>.</summary>
    public void Subscribe(string id, string query) => Send(new { id, type = "subscribe", payload = new { query } });

    /// <summary>The next message other than the server's keep-alive <c>ping</c> (blocking, within the socket's receive
    /// timeout).</summary>
    public JsonElement Receive()
    {
        while (true)
        {
            var message = ReceiveAny();
            if (message.GetProperty("type").GetString() != "ping")
                return message;
        }
    }

    private JsonElement ReceiveAny()
    {
        Span<byte> header = stackalloc byte[8];
        ReadExactly(header[..2]);
        var opcode = header[0] & 0x0F;
        long length = header[1] & 0x7F;
        if (length == 126)
        {
            ReadExactly(header[..2]);
            length = BinaryPrimitives.ReadUInt16BigEndian(header);
        }
        else if (length == 127)
        {
            ReadExactly(header);
            length = BinaryPrimitives.ReadInt64BigEndian(header);
        }
        var payload = new byte[length];
        ReadExactly(payload);
        if (opcode != 0x1)
            throw new InvalidOperationException($"expected a text frame, got opcode {opcode}");
        using var json = JsonDocument.Parse(payload);
        return json.RootElement.Clone();
    }

    public void Dispose() => _socket.Dispose();

    private void Upgrade(Uri uri)
    {
        var key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
        _socket.Send(Encoding.ASCII.GetBytes(
            $"GET {uri.AbsolutePath} HTTP/1.1\r\nHost: {uri.Authority}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
            $"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: {GraphQLWsTestClient.SubProtocol}\r\n\r\n"));
        // the response ends at its blank line; the server sends nothing after it until the client speaks
        var response = new StringBuilder();
        var one = new byte[1];
        while (!response.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            ReadExactly(one);
            response.Append((char)one[0]);
        }
        if (!response.ToString().StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            throw new InvalidOperationException($"the upgrade was refused: {response}");
    }

    /// <summary>One masked text frame, as a client must send.</summary>
    private void Send(object message)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(message);
        var frame = new List<byte> { 0x81 };
        if (payload.Length < 126)
        {
            frame.Add((byte)(0x80 | payload.Length));
        }
        else
        {
            frame.Add(0x80 | 126);
            frame.Add((byte)(payload.Length >> 8));
            frame.Add((byte)payload.Length);
        }
        var mask = RandomNumberGenerator.GetBytes(4);
        frame.AddRange(mask);
        for (var i = 0; i < payload.Length; i++)
            frame.Add((byte)(payload[i] ^ mask[i % 4]));
        _socket.Send(frame.ToArray());
    }

    private void ReadExactly(Span<byte> buffer)
    {
        while (buffer.Length > 0)
        {
            var read = _socket.Receive(buffer);
            if (read == 0)
                throw new InvalidOperationException("the server closed the connection");
            buffer = buffer[read..];
        }
    }
}
