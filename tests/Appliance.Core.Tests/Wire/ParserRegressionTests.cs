using System.Runtime.CompilerServices;
using Appliance.Core.Wire;
using Appliance.TestSupport.Frames;

namespace Appliance.Core.Tests.Wire;

/// <summary>Replays ParserRegressions.txt: every case must give its recorded result and keep the invariants.</summary>
public class ParserRegressionTests
{
    private const string FileName = "ParserRegressions.txt";

    public static TheoryData<int, string, string, string> Cases()
    {
        var data = new TheoryData<int, string, string, string>();
        var lines = File.ReadAllLines(Locate());
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var hash = line.IndexOf('#', StringComparison.Ordinal);
            var fields = (hash < 0 ? line : line[..hash]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length != 3 || hash < 0)
            {
                throw new FormatException($"{FileName}:{i + 1}: expected '<l2|l3> <expected> <hex> # why'");
            }

            data.Add(i + 1, fields[0], fields[1], fields[2]);
        }

        return data;
    }

    // The corpus lives next to this source file; tests run from the repository, so the compile-time path finds it.
    private static string Locate([CallerFilePath] string source = "")
    {
        var beside = Path.Combine(Path.GetDirectoryName(source) ?? ".", FileName);
        return File.Exists(beside) ? beside : Path.Combine(AppContext.BaseDirectory, "Wire", FileName);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Parse_RegressionCase_GivesRecordedResult(int line, string entry, string expected, string hex)
    {
        var bytes = Frames.FromHex(hex);

        PacketInfo info;
        var ok = entry switch
        {
            "l2" => FrameParser.ParseEthernet(bytes, out info),
            "l3" => FrameParser.ParseIp(bytes, out info),
            _ => throw new FormatException($"line {line}: unknown entry '{entry}'"),
        };

        ParserInvariants.Check(bytes, ok, info);
        if (expected == "ok")
        {
            Assert.True(ok, $"line {line}: expected ok, got {ReasonNames.Name(info.Error)}");
        }
        else
        {
            Assert.True(ReasonNames.TryParse(expected, out var reason), $"line {line}: unknown reason '{expected}'");
            Assert.False(ok, $"line {line}: expected {expected}, parsed ok");
            Assert.Equal(reason, info.Error);
        }
    }

    [Fact]
    public void Cases_FileIsNotEmpty()
    {
        Assert.True(Cases().Count >= 20);
    }
}
