/*
 * pcapfwd: the reference for benchmarks/bridge/run.sh. A minimal libpcap forwarder between two interfaces with
 * no filtering at all: the same capture settings as camfw's LibPcapPort (immediate mode, promiscuous, PCAP_D_IN,
 * non-blocking, 32 MiB buffer) and the same loop shape (poll both descriptors, a batch from each, send to the
 * other), so the difference to camfw is the managed data plane and the engine's decisions.
 *
 * Build: gcc -O2 -o pcapfwd pcapfwd.c -lpcap
 * Usage: pcapfwd IF_A IF_B   (runs until SIGINT/SIGTERM, then prints its counters)
 */
#include <pcap/pcap.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

struct side { pcap_t *in; pcap_t *out; unsigned long long forwarded, send_errors; };

static void forward(u_char *user, const struct pcap_pkthdr *h, const u_char *bytes)
{
    struct side *s = (struct side *)user;
    if (pcap_sendpacket(s->out, bytes, (int)h->caplen) == 0) s->forwarded++; else s->send_errors++;
}

static pcap_t *open_port(const char *name)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_create(name, err);
    if (!p) { fprintf(stderr, "pcap_create %s: %s\n", name, err); exit(1); }
    pcap_set_snaplen(p, 262144);
    pcap_set_promisc(p, 1);
    pcap_set_immediate_mode(p, 1);
    pcap_set_buffer_size(p, 32 * 1024 * 1024);
    if (pcap_activate(p) < 0) { fprintf(stderr, "activate %s: %s\n", name, pcap_geterr(p)); exit(1); }
    if (pcap_setdirection(p, PCAP_D_IN) != 0) { fprintf(stderr, "setdirection %s: %s\n", name, pcap_geterr(p)); exit(1); }
    if (pcap_setnonblock(p, 1, err) != 0) { fprintf(stderr, "nonblock %s: %s\n", name, err); exit(1); }
    return p;
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: %s IF_A IF_B\n", argv[0]); return 2; }
    pcap_t *a = open_port(argv[1]), *b = open_port(argv[2]);
    struct side ab = { a, b, 0, 0 }, ba = { b, a, 0, 0 };
    struct pollfd fds[2] = { { pcap_get_selectable_fd(a), POLLIN, 0 }, { pcap_get_selectable_fd(b), POLLIN, 0 } };
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    printf("ready\n");
    fflush(stdout);
    while (!stop) {
        int n = pcap_dispatch(a, 64, forward, (u_char *)&ab);
        int m = pcap_dispatch(b, 64, forward, (u_char *)&ba);
        if (n <= 0 && m <= 0) poll(fds, 2, 20);
    }
    struct pcap_stat st = { 0 };
    pcap_stats(a, &st);
    printf("pcapfwd a->b: forwarded=%llu send_errors=%llu capture_drops=%u | b->a: forwarded=%llu\n",
           ab.forwarded, ab.send_errors, st.ps_drop, ba.forwarded);
    pcap_close(a);
    pcap_close(b);
    return 0;
}
