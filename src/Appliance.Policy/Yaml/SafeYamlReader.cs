using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Appliance.Policy.Yaml;

/// <summary>
/// Reads one YAML file into an inert <see cref="YNode"/> tree with a flat loop over YamlDotNet's event
/// <see cref="Parser"/>. YamlDotNet's own tree and object builders recurse once per nesting level with no limit (a
/// file of ~8,000 <c>[</c> overflows the stack, which no catch can stop), so they are never used. This loop keeps
/// its own explicit stack, counts depth and aliases as each event arrives, and stops at the first event past a
/// cap, before any node below it exists: nothing deeper than <see cref="PolicyLimits.MaxDepth"/> is ever built
/// and no alias is ever expanded.
/// </summary>
internal static partial class SafeYamlReader
{
    /// <summary>
    /// Parses <paramref name="text"/>. Returns the root node (null for an empty file), or false when the file
    /// cannot be read at all; diagnostics name <paramref name="file"/>.
    /// </summary>
    public static bool TryRead(string file, string text, DiagnosticBag diagnostics, out YNode? root)
    {
        root = null;
        var stack = new Stack<(YNode Node, YScalar? PendingKey)>();
        var documents = 0;
        var ok = true;
        try
        {
            var parser = new Parser(new StringReader(text));
            while (parser.MoveNext())
            {
                var ev = parser.Current!;
                var line = (int)ev.Start.Line;
                var column = (int)ev.Start.Column;
                switch (ev)
                {
                    case StreamStart or StreamEnd or DocumentEnd:
                        break;

                    case DocumentStart:
                        if (++documents > 1)
                        {
                            diagnostics.Error(file, line, column, "a policy file holds one YAML document; split it into several files instead of using '---'");
                            return false;
                        }

                        break;

                    case AnchorAlias alias:
                        // Refused before anything resolves it: the schema never needs aliases, and they are where
                        // billion-laughs expands.
                        diagnostics.Error(file, line, column, $"aliases (*{alias.Value}) are not allowed in policy files; write the value out");
                        return false;

                    case NodeEvent node when !node.Anchor.IsEmpty:
                        diagnostics.Error(file, line, column, $"anchors (&{node.Anchor}) are not allowed in policy files; write the value out");
                        return false;

                    case NodeEvent node when !node.Tag.IsEmpty && !node.Tag.IsNonSpecific:
                        diagnostics.Error(file, line, column, $"YAML tags ({node.Tag}) are not allowed in policy files");
                        return false;

                    case Scalar scalar:
                        ok &= Attach(file, stack, new YScalar(line, column, scalar.Value, scalar.Style == ScalarStyle.Plain), diagnostics, ref root);
                        break;

                    case SequenceStart or MappingStart:
                        if (stack.Count >= PolicyLimits.MaxDepth)
                        {
                            diagnostics.Error(file, line, column, $"nesting is deeper than {PolicyLimits.MaxDepth} levels; the file is not read");
                            return false;
                        }

                        stack.Push((ev is SequenceStart ? new YSequence(line, column) : new YMapping(line, column), null));
                        break;

                    case SequenceEnd or MappingEnd:
                        var done = stack.Pop().Node;
                        ok &= Attach(file, stack, done, diagnostics, ref root);
                        break;

                    default:
                        diagnostics.Error(file, line, column, "unsupported YAML construct");
                        return false;
                }
            }
        }
        catch (YamlException ex)
        {
            diagnostics.Error(file, Math.Max(1, (int)ex.Start.Line), Math.Max(1, (int)ex.Start.Column), "YAML syntax: " + CleanMessage(ex.Message));
            return false;
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or FormatException or OverflowException or IndexOutOfRangeException)
        {
            // The text is untrusted: a parser bug on strange input must become a diagnostic, not a failed reload.
            diagnostics.Error(file, 1, 1, "the file could not be read as YAML: " + ex.Message);
            return false;
        }

        return ok;
    }

    private static readonly YScalar BadKey = new(0, 0, "", plain: false);

    private static bool Attach(string file, Stack<(YNode Node, YScalar? PendingKey)> stack, YNode node, DiagnosticBag diagnostics, ref YNode? root)
    {
        if (stack.Count == 0)
        {
            root = node;
            return true;
        }

        var (parent, key) = stack.Pop();
        var ok = true;
        if (parent is YSequence seq)
        {
            seq.Items.Add(node);
        }
        else if (key is null)
        {
            if (node is not YScalar scalarKey)
            {
                diagnostics.Error(file, node.Line, node.Column, "a key must be plain text, not " + node.Kind);

                // A placeholder keeps the pairing of keys and values so the rest of the file still reads.
                key = BadKey;
                ok = false;
            }
            else
            {
                key = scalarKey;
            }

            stack.Push((parent, key));
            return ok;
        }
        else
        {
            var map = (YMapping)parent;
            if (ReferenceEquals(key, BadKey))
            {
                // Already reported; its value is dropped.
            }
            else if (!map.TryAdd(key, node, out var prior))
            {
                diagnostics.Error(file, key.Line, key.Column, $"duplicate key '{key.Value}' (first at line {prior.Line}, column {prior.Column})");
                ok = false;
            }

            key = null;
        }

        stack.Push((parent, key));
        return ok;
    }

    /// <summary>YamlDotNet prefixes messages with "(Line: 1, Col: 2, Idx: 3) - (Line: ...): "; the diagnostic already says where.</summary>
    private static string CleanMessage(string message) => PositionPrefix().Replace(message, "").Trim();

    [GeneratedRegex(@"^\(Line: \d+, Col: \d+, Idx: \d+\) - \(Line: \d+, Col: \d+, Idx: \d+\):\s*")]
    private static partial Regex PositionPrefix();
}
