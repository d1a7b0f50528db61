using System.Text.RegularExpressions;
using Appliance.Core;
using Appliance.Core.Wire;
using Appliance.Host.Hosting;
using Appliance.Host.Tests.Hosting;
using Appliance.TestSupport.Frames;
using Appliance.TestSupport.Host;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Playwright;

namespace Appliance.Host.Tests.WebConsole;

/// <summary>
/// The web console in a real headless Chromium (Debian's, launched by path; Playwright's own browser download is
/// never used) against the real appliance host on loopback: the real policy service, engine, drop-event reporter,
/// security-event feed and management server. Only the bridge ports are replaced (frames are handed to the real
/// engine by the test). A screenshot of each page is written to <c>.build/test-results/console/</c>.
/// </summary>
public sealed partial class ConsoleBrowserTests : IAsyncLifetime
{
    private const string ChromiumPath = "/usr/bin/chromium";
    private static readonly MacAddress CameraMac = Frames.Mac("02:00:00:00:00:01");
    private readonly TempDirectory _root = new("camfw-console-browser");
    private readonly List<string> _cspViolations = [];
    private IHost? _host;
    private FakeDataPlaneFactory? _planes;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private ushort _nextPort = 40000;

    private static string Screenshots => Path.Combine(RepoPaths.Root, ".build", "test-results", "console");

    private string Token => File.ReadAllText(_root.Combine("token")).Trim();

    private Uri ConsoleUrl => _host!.Services.GetRequiredService<ManagementService>().Addresses[0];

    public async Task InitializeAsync()
    {
        _planes = new FakeDataPlaneFactory();
        _host = await TestApplianceHost.StartAsync(_root, _planes, new Dictionary<string, string?> { ["Management:AuthFailureLimit"] = "100" });

        if (!File.Exists(ChromiumPath))
        {
            return; // the test says so (scripts/install-deps.sh installs it)
        }

        Directory.CreateDirectory(Screenshots);
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = ChromiumPath,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
        });
        Assertions.SetDefaultExpectTimeout(30_000);
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }

        _root.Dispose();
    }

    [Fact]
    public async Task Console_AdminSession_LoginCamerasLiveDropPolicyApplyRollbackLogout()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/install-deps.sh (installs Debian's chromium)");
        await using var context = await NewContextAsync(1280, 900);
        var page = await context.NewPageAsync();

        // 1. The console's address leads to the login form; a wrong token is refused there.
        var first = await page.GotoAsync(new Uri(ConsoleUrl, "/console/").ToString());
        Assert.Contains(ConsoleSecurityHeader, first!.Headers.Keys);
        await Assertions.Expect(page).ToHaveURLAsync(LoginUrl());
        await page.Locator("#token").FillAsync("not-the-token-0000000000");
        await page.Locator("button[type=submit]").ClickAsync();
        await Assertions.Expect(page.Locator("#login-error")).ToContainTextAsync("not the management token");
        await ShotAsync(page, "login");

        // 2. The right token: the overview, policy version 1 and the data plane.
        await page.Locator("#token").FillAsync(Token);
        await page.Locator("button[type=submit]").ClickAsync();
        await Assertions.Expect(page.Locator("#policy-version")).ToHaveTextAsync("1");
        await Assertions.Expect(page.Locator("#planes")).ToContainTextAsync("cam0-up0");
        var cookie = Assert.Single(await context.CookiesAsync(), c => c.Name == "camfw-session");
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
        Assert.False(await page.EvaluateAsync<bool>("() => document.cookie.includes('camfw-session')"));
        await ShotAsync(page, "overview");

        // 3. Cameras: one row for cam-a, enforce mode, its identity.
        await page.GetByRole(AriaRole.Link, new() { Name = "Cameras", Exact = true }).ClickAsync();
        var row = page.Locator("#cameras tr[data-camera='cam-a']");
        await Assertions.Expect(row).ToContainTextAsync("enforce");
        await Assertions.Expect(row).ToContainTextAsync(TestPolicies.CameraIp);

        // 4. A drop appears live: the tail shows it without a reload, click-to-filter and pause work.
        await page.GetByRole(AriaRole.Link, new() { Name = "Live events" }).ClickAsync();
        await Assertions.Expect(page.Locator("#tail-state")).ToHaveTextAsync("live");
        PhoneHome("203.0.113.50", 443);
        var live = page.Locator("#events tbody tr", new() { HasText = "203.0.113.50" }).First;
        await Assertions.Expect(live).ToBeVisibleAsync();
        await Assertions.Expect(live).ToContainTextAsync("phone-home");
        await ShotAsync(page, "events");

        await live.Locator("button[data-filter='camera']").ClickAsync();
        await Assertions.Expect(page.Locator("#filters")).ToContainTextAsync("camera = cam-a");
        await page.Locator("#pause").ClickAsync();
        PhoneHome("203.0.113.51", 443);
        await Assertions.Expect(page.Locator("#pause")).ToHaveTextAsync("Resume (1 new)");
        await Assertions.Expect(page.Locator("#events tbody tr", new() { HasText = "203.0.113.51" })).ToHaveCountAsync(0);
        await page.Locator("#pause").ClickAsync();
        await Assertions.Expect(page.Locator("#events tbody tr", new() { HasText = "203.0.113.51" }).First).ToBeVisibleAsync();
        await ShotAsync(page, "events-filtered");

        // 5. The cameras page counts the drops (refreshed in place) and badges the new destination.
        await page.GetByRole(AriaRole.Link, new() { Name = "Cameras", Exact = true }).ClickAsync();
        await Assertions.Expect(row.Locator("td").Nth(4)).ToHaveTextAsync(PositiveCount());
        await Assertions.Expect(row).ToContainTextAsync("new destination");
        await ShotAsync(page, "cameras");
        await page.Locator("#cameras a", new() { HasText = "cam-a" }).ClickAsync();
        await Assertions.Expect(page.Locator("#effective-rules")).ToContainTextAsync("stream-from-nvr");
        await Assertions.Expect(page.Locator("#blocked")).ToContainTextAsync("203.0.113.50");
        await ShotAsync(page, "camera");

        // 6. Blocked traffic: the phone-home line, security-critical, with its count.
        await page.GetByRole(AriaRole.Link, new() { Name = "Blocked" }).ClickAsync();
        var blocked = page.Locator("#blocked tbody tr", new() { HasText = "203.0.113.50" });
        await Assertions.Expect(blocked).ToHaveClassAsync("critical");
        await Assertions.Expect(blocked).ToContainTextAsync("phone-home");
        await ShotAsync(page, "blocked");

        // 7. A bad policy: validate shows file:line:column inline, nothing changes.
        await page.GetByRole(AriaRole.Link, new() { Name = "Policy" }).ClickAsync();

        // The form works through console.js (deferred): choosing files before it has run is lost, as a busy CI
        // machine showed, so wait for the load event, which follows the deferred scripts.
        await page.WaitForLoadStateAsync(LoadState.Load);
        var bad = WritePolicy("bad", new() { ["networks.yaml"] = TestPolicies.Networks, ["cameras.yaml"] = TestPolicies.InvalidCameras });
        await page.Locator("#policy-files").SetInputFilesAsync(bad);
        await Assertions.Expect(page.Locator("#chosen")).ToContainTextAsync("cameras.yaml");
        await page.Locator("#validate").ClickAsync();
        await Assertions.Expect(page.Locator("#diagnostics")).ToContainTextAsync(new Regex(@"cameras\.yaml:10:\d+ error"));
        await Assertions.Expect(page.Locator("#current-version")).ToHaveTextAsync("1");
        await page.Locator("#apply").ClickAsync();
        await Assertions.Expect(page.Locator("#apply-error")).ToContainTextAsync("Policy rejected");
        await Assertions.Expect(page.Locator("#diagnostics")).ToContainTextAsync("cameras.yaml:10:");
        await ShotAsync(page, "policy-diagnostic");

        // 8. A good policy as a directory, safe apply: version 2 on trial with the countdown, then confirmed.
        var good = WritePolicyDirectory("good", TestPolicies.Files(count: 2));
        await page.Locator("#policy-dir").SetInputFilesAsync(good);
        await Assertions.Expect(page.Locator("#chosen")).ToContainTextAsync("cameras.yaml");
        await page.Locator("#safe-apply").ClickAsync();
        await Assertions.Expect(page.Locator("#current-version")).ToHaveTextAsync("2");
        await Assertions.Expect(page.Locator("#countdown")).ToHaveTextAsync(new Regex(@"^\d+ (s|min)"));
        await ShotAsync(page, "policy-pending");
        await page.Locator("#confirm").ClickAsync();
        await Assertions.Expect(page.Locator("#pending")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("#history")).ToContainTextAsync("+");

        // 9. Roll back to version 1 (two presses): a new version 3 with version 1's files.
        var rollback = page.Locator("button.rollback[data-version='1']");
        await rollback.ClickAsync();
        await Assertions.Expect(rollback).ToHaveTextAsync("Really roll back to 1?");
        await rollback.ClickAsync();
        await Assertions.Expect(page.Locator("#current-version")).ToHaveTextAsync("3");
        var policies = _host!.Services.GetRequiredService<Management.Policies.PolicyService>();
        Assert.Single(policies.Current!.Spec.Cameras);
        await page.Locator("#history details").First.Locator("summary").ClickAsync();
        await ShotAsync(page, "policy");

        // 10. The overview agrees; the page fits a phone's width (tables scroll inside their frame).
        await page.GetByRole(AriaRole.Link, new() { Name = "Overview" }).ClickAsync();
        await Assertions.Expect(page.Locator("#policy-version")).ToHaveTextAsync("3");
        await page.SetViewportSizeAsync(390, 844);
        await page.GetByRole(AriaRole.Link, new() { Name = "Cameras", Exact = true }).ClickAsync();
        await Assertions.Expect(row).ToBeVisibleAsync();

        // Measured once the page has loaded: the row is visible as soon as the HTML is parsed, and a layout taken
        // before the stylesheet arrives (a busy CI machine) lays the table out unstyled, wider than any phone.
        await page.WaitForLoadStateAsync(LoadState.Load);
        var widths = await page.EvaluateAsync<int[]>("() => [document.documentElement.scrollWidth, window.innerWidth]");
        Assert.True(widths[0] <= widths[1] + 1, $"the cameras page is wider than a phone: {widths[0]} px in a {widths[1]} px viewport");
        await ShotAsync(page, "cameras-phone");

        // 11. Logout ends the session; the console is closed again.
        await page.Locator("#logout").ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(LoginUrl());
        await page.GotoAsync(new Uri(ConsoleUrl, "/console/cameras").ToString());
        await Assertions.Expect(page).ToHaveURLAsync(LoginUrl());

        Assert.Empty(_cspViolations);
    }

    [Fact]
    public async Task Console_EveryRouteWithoutSession_ShowsLoginNeverData()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/install-deps.sh (installs Debian's chromium)");
        PhoneHome("203.0.113.50", 443);
        await using var context = await NewContextAsync(1280, 800);
        var page = await context.NewPageAsync();
        foreach (var path in new[] { "/", "/console", "/console/", "/console/cameras", "/console/cameras/cam-a", "/console/blocked", "/console/events", "/console/policy", "/console/proposal", "/console/nothing-here" })
        {
            await page.GotoAsync(new Uri(ConsoleUrl, path).ToString());
            await Assertions.Expect(page).ToHaveURLAsync(LoginUrl());
            var html = await page.ContentAsync();
            Assert.DoesNotContain("cam-a", html, StringComparison.Ordinal);
            Assert.DoesNotContain("203.0.113.50", html, StringComparison.Ordinal);
        }

        // The event stream answers 401 to a browser without a session, never an event.
        var stream = await page.APIRequest.GetAsync(new Uri(ConsoleUrl, "/console/events/stream").ToString(), new() { Headers = new Dictionary<string, string> { ["Accept"] = "text/event-stream" } });
        Assert.Equal(401, stream.Status);
        Assert.DoesNotContain("203.0.113.50", await stream.TextAsync(), StringComparison.Ordinal);
        Assert.Empty(_cspViolations);
    }

    [Fact]
    public async Task Console_FormPostedFromAnotherLoopbackOrigin_RefusedAndSessionSurvives()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/install-deps.sh (installs Debian's chromium)");
        await using var context = await NewContextAsync(1280, 800);
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(ConsoleUrl, "/console/login").ToString());
        await page.Locator("#token").FillAsync(Token);
        await page.Locator("button[type=submit]").ClickAsync();
        await Assertions.Expect(page.Locator("#policy-version")).ToHaveTextAsync("1");

        // Another port on 127.0.0.1 is another origin but the same site, so SameSite=Strict lets the session cookie
        // ride along: only the anti-forgery check stands between this page and the console. (403, not 401, proves the
        // cookie was sent and the session recognised.)
        var target = new Uri(ConsoleUrl, "/console/logout").ToString();
        const string Attacker = "http://127.0.0.1:9/attack.html";
        await context.RouteAsync(Attacker, route => route.FulfillAsync(new()
        {
            ContentType = "text/html",
            Body = $"<form method=\"post\" action=\"{target}\"><input type=\"hidden\" name=\"csrf\" value=\"guess\"></form><script>document.forms[0].submit()</script>",
        }));
        var response = await page.RunAndWaitForResponseAsync(() => page.GotoAsync(Attacker), r => r.Url == target);
        Assert.Equal(403, response.Status);

        await page.GotoAsync(new Uri(ConsoleUrl, "/console/cameras").ToString());
        await Assertions.Expect(page.Locator("#cameras")).ToContainTextAsync("cam-a");
    }

    [Fact]
    public async Task Console_ProposalPage_NeedsDecisionFirstThenLearnedRulesReadOnly()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/install-deps.sh (installs Debian's chromium)");

        // cam-a learns (cam-2 enforces, so the change keeps a camera enforcing): the NVR pulls its stream three
        // times; it phones home three times.
        var files = TestPolicies.Files(count: 2);
        files["cameras.yaml"] = files["cameras.yaml"].Replace("    ip: 192.0.2.11\n", "    ip: 192.0.2.11\n    mode: learn\n", StringComparison.Ordinal);
        using (var client = new Appliance.Management.Client.ManagementClient(new() { BaseAddress = ConsoleUrl, Token = Token, TokenSource = "test" }))
        {
            var applied = await client.ApplyAsync(files, null, false, CancellationToken.None);
            Assert.True(applied.IsSuccess, applied.Error);
        }

        for (var i = 0; i < 3; i++)
        {
            Connect(TestPolicies.NvrIp, fromCamera: false, 554);
            Connect("203.0.113.50", fromCamera: true, 443);
        }

        await using var context = await NewContextAsync(1280, 900);
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(ConsoleUrl, "/console/login").ToString());
        await page.Locator("#token").FillAsync(Token);
        await page.Locator("button[type=submit]").ClickAsync();
        await Assertions.Expect(page.Locator("#policy-version")).ToHaveTextAsync("2");
        await page.GetByRole(AriaRole.Link, new() { Name = "Proposal" }).ClickAsync();

        await Assertions.Expect(page.Locator("#decisions")).ToContainTextAsync("203.0.113.50");
        await Assertions.Expect(page.Locator("#decisions")).ToContainTextAsync("cam-a");
        var camera = page.Locator("pre.proposal-file[data-file='cameras/cam-a.yaml']");
        await Assertions.Expect(camera).ToContainTextAsync("# learned:");
        await Assertions.Expect(camera).ToContainTextAsync("554");
        await Assertions.Expect(page.Locator("#allowed-count")).ToHaveTextAsync("1"); // the stream; the phone-home is not a rule
        var order = await page.EvaluateAsync<bool>("() => document.querySelector('#needs-decision').compareDocumentPosition(document.querySelector('#learned-rules')) === Node.DOCUMENT_POSITION_FOLLOWING");
        Assert.True(order, "the 'needs a decision' section comes before the learned rules");
        Assert.Equal(0, await page.Locator("main button, main form").CountAsync()); // read-only: applying is the Policy page's safe apply
        await ShotAsync(page, "proposal");
        Assert.Empty(_cspViolations);

        // The same proposal the API serves.
        using var http = new HttpClient { BaseAddress = ConsoleUrl };
        http.DefaultRequestHeaders.Authorization = new("Bearer", Token);
        var api = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<Appliance.Management.Api.ProposalDto>(http, "/api/v1/proposal");
        Assert.Equal(api!.NeedsDecision.ToString(System.Globalization.CultureInfo.InvariantCulture), await page.Locator("#decision-count").InnerTextAsync());
    }

    [Fact]
    public async Task Console_KeyboardOnlyAndPhoneWidth_TablesSortAndEveryPageFits()
    {
        Assert.True(File.Exists(ChromiumPath), $"{ChromiumPath} is missing: run scripts/install-deps.sh (installs Debian's chromium)");

        // Three cameras, so sorting has something to reorder.
        using (var client = new Appliance.Management.Client.ManagementClient(new() { BaseAddress = ConsoleUrl, Token = Token, TokenSource = "test" }))
        {
            var applied = await client.ApplyAsync(TestPolicies.Files(count: 3), null, false, CancellationToken.None);
            Assert.True(applied.IsSuccess, applied.Error);
        }

        PhoneHome("203.0.113.50", 443);
        await using var context = await NewContextAsync(1280, 900);
        var page = await context.NewPageAsync();

        // Log in with the keyboard alone: the token field has the focus, Enter submits.
        await page.GotoAsync(new Uri(ConsoleUrl, "/console/login").ToString());
        await Assertions.Expect(page.Locator("#token")).ToBeFocusedAsync();
        await page.Keyboard.TypeAsync(Token);
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page.Locator("#policy-version")).ToHaveTextAsync("2");

        // Tab from the top of the cameras page to the Camera column's header; Enter sorts, Space sorts the other way.
        await page.GotoAsync(new Uri(ConsoleUrl, "/console/cameras").ToString());
        await Assertions.Expect(page.Locator("#cameras thead button.sort").First).ToBeAttachedAsync();
        var reached = false;
        for (var i = 0; i < 40 && !reached; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached = await page.EvaluateAsync<bool>("() => !!document.activeElement && document.activeElement.matches('#cameras thead th:first-child button.sort')");
        }

        Assert.True(reached, "Tab never reached the Camera column's sort button");
        var header = page.Locator("#cameras thead th").First;
        var rows = page.Locator("#cameras tbody tr");
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(header).ToHaveAttributeAsync("aria-sort", "descending");
        Assert.Equal(["cam-a", "cam-3", "cam-2"], await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.camera)"));
        await page.Keyboard.PressAsync("Space");
        await Assertions.Expect(header).ToHaveAttributeAsync("aria-sort", "ascending");
        Assert.Equal(["cam-2", "cam-3", "cam-a"], await rows.EvaluateAllAsync<string[]>("rows => rows.map(r => r.dataset.camera)"));
        await ShotAsync(page, "cameras-sorted");

        // On a phone, every page fits the screen's width: wide tables and listings scroll inside their own frames.
        await page.SetViewportSizeAsync(390, 844);
        foreach (var path in new[] { "/console/", "/console/cameras", "/console/cameras/cam-a", "/console/blocked", "/console/events", "/console/policy", "/console/proposal" })
        {
            await page.GotoAsync(new Uri(ConsoleUrl, path).ToString());
            await Assertions.Expect(page.Locator("main h1")).ToBeVisibleAsync();

            // Polled (a page measured mid-layout is no verdict); the message names what sticks out.
            string[] wider = [];
            for (var attempt = 0; attempt < 20; attempt++)
            {
                wider = await page.EvaluateAsync<string[]>(WiderThanViewport);
                if (wider.Length == 0)
                {
                    break;
                }

                await Task.Delay(250);
            }

            Assert.True(wider.Length == 0, $"{path} is wider than a phone: {string.Join(", ", wider)}");
        }

        Assert.Empty(_cspViolations);
    }

    /// <summary>A whole TCP connection between cam-a and <paramref name="peer"/>: handshake, some data, close.</summary>
    private void Connect(string peer, bool fromCamera, ushort port)
    {
        var engine = Assert.Single(_planes!.Planes).Engine;
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var ephemeral = _nextPort++;
        byte[] Cam(TcpFlags f) => fromCamera
            ? Frames.Tcp(CameraMac, Frames.RouterMac, TestPolicies.CameraIp, peer, ephemeral, port, f).ToArray()
            : Frames.Tcp(CameraMac, Frames.RouterMac, TestPolicies.CameraIp, peer, port, ephemeral, f).ToArray();
        byte[] Peer(TcpFlags f) => fromCamera
            ? Frames.Tcp(Frames.RouterMac, CameraMac, peer, TestPolicies.CameraIp, port, ephemeral, f).ToArray()
            : Frames.Tcp(Frames.RouterMac, CameraMac, peer, TestPolicies.CameraIp, ephemeral, port, f).ToArray();
        var (opener, opened) = fromCamera ? ((Func<TcpFlags, byte[]>)Cam, Side.Camera) : (Peer, Side.Uplink);
        var (responder, answered) = fromCamera ? ((Func<TcpFlags, byte[]>)Peer, Side.Uplink) : (Cam, Side.Camera);
        Assert.True(engine.ProcessFrame(opener(TcpFlags.Syn), opened, now).IsPass);
        Assert.True(engine.ProcessFrame(responder(TcpFlags.Syn | TcpFlags.Ack), answered, now).IsPass);
        Assert.True(engine.ProcessFrame(opener(TcpFlags.Ack), opened, now).IsPass);
        for (var i = 0; i < 25; i++)
        {
            Assert.True(engine.ProcessFrame(responder(TcpFlags.Ack | TcpFlags.Psh), answered, now).IsPass);
        }
    }

    private const string ConsoleSecurityHeader = "content-security-policy";

    /// <summary>Nothing when the page fits the viewport's width; else the page's width and the elements that stick out (outside the scrolling table frames, or positioned out of them).</summary>
    private const string WiderThanViewport =
        "() => { const w = window.innerWidth; if (document.documentElement.scrollWidth <= w + 1) { return []; }"
        + " const out = Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > w + 1 && (!e.closest('.table-wrap') || getComputedStyle(e).position === 'absolute'));"
        + " return ['page ' + document.documentElement.scrollWidth + ' px in ' + w + ' px'].concat(out.slice(0, 8).map(e => e.tagName.toLowerCase()"
        + " + (e.id ? '#' + e.id : '') + (typeof e.className === 'string' && e.className ? '.' + e.className : '') + ' to ' + Math.round(e.getBoundingClientRect().right) + ' px')); }";

    private async Task<IBrowserContext> NewContextAsync(int width, int height)
    {
        var context = await _browser!.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        context.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (_cspViolations)
                {
                    _cspViolations.Add(message.Text);
                }
            }
        };

        // The console needs nothing from outside the box: any request elsewhere fails the test.
        await context.RouteAsync("**/*", async route =>
        {
            var url = new Uri(route.Request.Url);
            if (url.Host != "127.0.0.1")
            {
                lock (_cspViolations)
                {
                    _cspViolations.Add("request outside the box: " + url);
                }

                await route.AbortAsync();
                return;
            }

            await route.ContinueAsync();
        });
        return context;
    }

    private Regex LoginUrl() => new("^" + Regex.Escape(new Uri(ConsoleUrl, "/console/login").ToString()) + "$");

    [GeneratedRegex(@"^[1-9][\d,]*\*?$")]
    private static partial Regex PositiveCount();

    /// <summary>cam-a opens a connection to a public address the policy does not allow: the engine drops it.</summary>
    private void PhoneHome(string destination, ushort port)
    {
        var engine = Assert.Single(_planes!.Planes).Engine;
        var syn = Frames.Tcp(CameraMac, Frames.RouterMac, TestPolicies.CameraIp, destination, _nextPort++, port, TcpFlags.Syn).ToArray();
        var verdict = engine.ProcessFrame(syn, Side.Camera, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        Assert.Equal(VerdictAction.Drop, verdict.Action);
    }

    private string[] WritePolicy(string name, Dictionary<string, string> files)
        => [.. files.Select(f => _root.Write(Path.Combine(name, f.Key), f.Value))];

    private string WritePolicyDirectory(string name, Dictionary<string, string> files)
    {
        WritePolicy(name, files);
        _root.Write(Path.Combine(name, "README.md"), "not a policy file\n");
        return _root.Combine(name);
    }

    private static Task ShotAsync(IPage page, string name)
        => page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });
}
