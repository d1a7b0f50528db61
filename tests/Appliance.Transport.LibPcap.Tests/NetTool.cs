namespace Appliance.Transport.LibPcap.Tests;

/// <summary>
/// A tiny python3 network tool the end-to-end test runs inside its namespaces (servers and clients), written to a
/// temporary file. Clients print one result line and exit 0 on success, 1 on failure.
/// </summary>
internal static class NetTool
{
    public const string Source = """
        import socket, sys, threading

        def serve_tcp(addr, port, size):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, port)); s.listen(16)
            return s, size

        def tcp_loop(s, size):
            while True:
                c, _ = s.accept()
                def send(c=c):
                    try:
                        c.sendall(b'v' * size)
                    finally:
                        c.close()
                threading.Thread(target=send, daemon=True).start()

        def udp_loop(s):
            while True:
                data, peer = s.recvfrom(2048)
                s.sendto(b'answer:' + data, peer)

        mode = sys.argv[1]
        if mode == 'serve':
            # serve tcp:ADDR:PORT:BYTES udp:ADDR:PORT ... ; prints 'ready' once every socket listens.
            for spec in sys.argv[2:]:
                kind, addr, port, *rest = spec.split(':')
                if kind == 'tcp':
                    s, size = serve_tcp(addr, int(port), int(rest[0]))
                    threading.Thread(target=tcp_loop, args=(s, size), daemon=True).start()
                else:
                    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((addr, int(port)))
                    threading.Thread(target=udp_loop, args=(u,), daemon=True).start()
            print('ready', flush=True)
            threading.Event().wait()
        elif mode == 'tcp-get':
            src, dst, port, timeout = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.settimeout(timeout)
            if src != '-':
                c.bind((src, 0))
            try:
                c.connect((dst, port))
                total = 0
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    total += len(b)
                print(total); sys.exit(0)
            except OSError as e:
                print('failed', type(e).__name__); sys.exit(1)
        elif mode == 'udp-ask':
            dst, port, timeout = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.settimeout(timeout)
            u.sendto(b'query', (dst, port))
            try:
                data, _ = u.recvfrom(2048); print(data.decode()); sys.exit(0)
            except OSError as e:
                print('failed', type(e).__name__); sys.exit(1)
        """;

    public static string WriteTo(string directory)
    {
        var path = Path.Combine(directory, "nettool.py");
        File.WriteAllText(path, Source);
        return path;
    }
}
