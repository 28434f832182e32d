// msg_loadgen: load scenarios against a running msg_server, with a delivery oracle.
// See README.md for the scenarios, flags and output.

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/dynamic_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "histogram.hpp"
#include "oracle.hpp"
#include "provision.hpp"
#include "report.hpp"

namespace msg::loadgen {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

// ---- options ---------------------------------------------------------------------------------

struct Options {
    std::string scenario;
    std::string host = "127.0.0.1";
    std::vector<unsigned short> ports;  // several: sockets spread over server processes
    std::string dsn;
    std::string jwt_secret;
    int rooms = 10;
    int members = 10;
    int senders = 10;
    double rate = 1000;  // total sends/s; 0 = closed loop (one in flight per sender)
    double duration = 5;
    double warmup = 1;
    double drain = 10;
    int max_in_flight = 64;  // per sender
    int threads = 2;
    int connections = 1000;
    int workers = 8;  // history: closed-loop HTTP clients
    int history_messages = 200;
    int connect_window = 64;           // concurrent handshakes per thread
    std::vector<pid_t> server_pids;    // RSS and CPU are summed over them
    std::vector<pid_t> db_pids;        // the postmaster: its CPU and its backends'
    int procs = 1;                     // connections: worker processes (20k fds each here)
    std::vector<std::string> sources;  // local addresses to bind, round-robin
    std::string json_out;
    std::string html_out;
    /// fanout: a socket that closes reconnects to the next server and resumes; a
    /// resync_required is answered with resume. Live frames that arrive while resuming are
    /// held and merged by seq (what a real client does).
    bool resilient = false;
};

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "msg_loadgen: %s\n"
                 "usage: msg_loadgen fanout|connections|history --port N --dsn DSN "
                 "--jwt-secret S [options]\n"
                 "  fanout:      --rooms R --members M --senders S --rate MSGS_PER_S "
                 "(0 = closed loop) --duration SEC --warmup SEC [--max-in-flight N]\n"
                 "  connections: --connections N --members M --duration SEC "
                 "[--source 127.0.0.2,127.0.0.3]\n"
                 "  history:     --workers C --rooms R --members M --history-messages K "
                 "--duration SEC\n"
                 "  all:         --host H --threads T --server-pid PID --db-pid PID --json FILE "
                 "--html FILE\n",
                 why.c_str());
    std::exit(2);
}

Options parse(int argc, char** argv) {
    if (argc < 2) usage("a scenario is required");
    Options o;
    o.scenario = argv[1];
    if (o.scenario != "fanout" && o.scenario != "connections" && o.scenario != "history") {
        usage("unknown scenario " + o.scenario);
    }
    for (int i = 2; i < argc; ++i) {
        std::string key = argv[i];
        std::string value;
        if (auto eq = key.find('='); eq != std::string::npos) {
            value = key.substr(eq + 1);
            key = key.substr(0, eq);
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            usage(key + " needs a value");
        }
        auto number = [&](auto& out) {
            std::istringstream in(value);
            if (!(in >> out) || !in.eof()) usage("bad value for " + key + ": " + value);
        };
        auto list = [&](auto& out) {
            std::stringstream in(value);
            for (std::string item; std::getline(in, item, ',');) {
                typename std::decay_t<decltype(out)>::value_type v{};
                std::istringstream one(item);
                if (!(one >> v) || !one.eof()) usage("bad value for " + key + ": " + value);
                out.push_back(v);
            }
        };
        if (key == "--host")
            o.host = value;
        else if (key == "--port")
            list(o.ports);
        else if (key == "--procs")
            number(o.procs);
        else if (key == "--dsn")
            o.dsn = value;
        else if (key == "--jwt-secret")
            o.jwt_secret = value;
        else if (key == "--rooms")
            number(o.rooms);
        else if (key == "--members")
            number(o.members);
        else if (key == "--senders")
            number(o.senders);
        else if (key == "--rate")
            number(o.rate);
        else if (key == "--duration")
            number(o.duration);
        else if (key == "--warmup")
            number(o.warmup);
        else if (key == "--drain")
            number(o.drain);
        else if (key == "--max-in-flight")
            number(o.max_in_flight);
        else if (key == "--threads")
            number(o.threads);
        else if (key == "--connections")
            number(o.connections);
        else if (key == "--workers")
            number(o.workers);
        else if (key == "--history-messages")
            number(o.history_messages);
        else if (key == "--connect-window")
            number(o.connect_window);
        else if (key == "--server-pid")
            list(o.server_pids);
        else if (key == "--db-pid")
            list(o.db_pids);
        else if (key == "--json")
            o.json_out = value;
        else if (key == "--html")
            o.html_out = value;
        else if (key == "--resilient")
            o.resilient = value == "1" || value == "true";
        else if (key == "--source") {
            std::stringstream in(value);
            for (std::string a; std::getline(in, a, ',');) {
                if (!a.empty()) o.sources.push_back(a);
            }
        } else {
            usage("unknown option " + key);
        }
    }
    if (o.dsn.empty() || o.jwt_secret.empty()) usage("--dsn and --jwt-secret are required");
    if (o.ports.empty()) o.ports.push_back(8080);
    if (o.procs < 1 || (o.procs > 1 && o.scenario != "connections")) {
        usage("--procs is for the connections scenario");
    }
    if (o.rooms < 1 || o.members < 1 || o.threads < 1 || o.duration <= 0 || o.warmup < 0) {
        usage("rooms, members, threads and duration must be positive");
    }
    return o;
}

// ---- server process sampling -----------------------------------------------------------------

struct ProcSample {
    long rss_kib = 0;
    long cpu_ticks = 0;
};

/// RSS and CPU ticks of one process; `reaped` adds its reaped children's CPU (a postmaster's
/// ended backends).
ProcSample sample_one(pid_t pid, bool reaped = false) {
    ProcSample s;
    if (pid <= 0) return s;
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);) {
        if (line.rfind("VmRSS:", 0) == 0) s.rss_kib = std::atol(line.c_str() + 6);
    }
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), {});
    auto close_paren = text.rfind(')');
    if (close_paren != std::string::npos) {
        std::istringstream in(text.substr(close_paren + 2));
        std::string field;
        for (int i = 3; i <= 17 && in >> field; ++i) {
            if (i == 14 || i == 15 || (reaped && (i == 16 || i == 17))) {
                s.cpu_ticks += std::atol(field.c_str());
            }
        }
    }
    return s;
}

ProcSample sample(const std::vector<pid_t>& pids) {
    ProcSample total;
    for (auto pid : pids) {
        auto one = sample_one(pid);
        total.rss_kib += one.rss_kib;
        total.cpu_ticks += one.cpu_ticks;
    }
    return total;
}

/// CPU ticks of `roots`, their reaped children and their live children (PostgreSQL: the
/// postmaster, ended backends, running backends).
long tree_cpu_ticks(const std::vector<pid_t>& roots) {
    if (roots.empty()) return 0;
    long ticks = 0;
    for (auto pid : roots) ticks += sample_one(pid, true).cpu_ticks;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const auto name = entry.path().filename().string();
        if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
        std::ifstream stat(entry.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(stat)), {});
        auto close_paren = text.rfind(')');
        if (close_paren == std::string::npos) continue;
        std::istringstream in(text.substr(close_paren + 2));
        std::string state;
        pid_t parent = 0;
        in >> state >> parent;
        if (std::find(roots.begin(), roots.end(), parent) != roots.end()) {
            ticks += sample_one(std::atoi(name.c_str())).cpu_ticks;
        }
    }
    return ticks;
}

/// This process's CPU (every thread), in clock ticks like the others.
long self_cpu_ticks() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    const double seconds = static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
                           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
    return static_cast<long>(seconds * static_cast<double>(sysconf(_SC_CLK_TCK)));
}

// ---- per-thread engine -----------------------------------------------------------------------

/// Counters of one thread; only that thread writes them.
struct ThreadStats {
    Histogram deliver;  // send → delivery to each member, µs
    Histogram ack;      // send → ack, µs
    Histogram request;  // history: request latency, µs
    std::vector<std::uint64_t> sends_per_s, deliveries_per_s, requests_per_s;
    std::map<std::string, std::uint64_t> errors;
    std::uint64_t sent = 0, acked = 0, delivered = 0, requests = 0;
    std::uint64_t duplicated = 0, reordered = 0;
    std::map<std::string, std::uint64_t> recoveries;  // reconnects, resyncs (resilient runs)
    std::vector<std::string> examples;                // first violations, for the report

    void bump(std::vector<std::uint64_t>& series, std::size_t second) {
        if (series.size() <= second) series.resize(second + 1, 0);
        ++series[second];
    }
    void error(const std::string& kind) { ++errors[kind]; }
};

struct Room {
    std::atomic<std::int64_t> max_acked{0};
};

struct Member {
    std::size_t index = 0;
    std::size_t thread = 0;
    std::int64_t user_id = 0;
    std::size_t room = 0;  // index into rooms
    std::int64_t room_id = 0;
    std::string token;
    std::unique_ptr<websocket::stream<beast::tcp_stream>> ws;
    bool open = false;
    SeqOracle oracle;                       // this socket's thread only
    std::atomic<std::int64_t> distinct{0};  // oracle.distinct(), readable by the main thread
    // Sending.
    int in_flight = 0;
    std::unique_ptr<asio::steady_timer> ack_signal;
    // Writing: one write at a time on a Beast stream, from the sender or a resume.
    std::deque<std::string> outbox;
    bool writing = false;
    // Recovering (--resilient).
    std::size_t attempt = 0;        // reconnects so far: which server the next one goes to
    bool resuming = false;          // a resume is outstanding (one at a time)
    bool resume_again = false;      // told to resync while it was: resume once more after it
    std::int64_t resumed_upto = 0;  // the highest seq a resume brought (dedupe at or below)
    std::vector<std::pair<std::int64_t, std::optional<std::int64_t>>> held;  // seq, sent ns
};

struct Run {
    Options options;
    Population population;
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<ThreadStats> stats;
    std::vector<std::unique_ptr<Member>> members;
    std::vector<std::unique_ptr<Room>> rooms;
    Clock::time_point start;          // senders start
    Clock::time_point measure_from;   // after warm-up
    Clock::time_point measure_until;  // end of the window
    std::atomic<std::int64_t> connected{0};
    std::atomic<std::int64_t> connect_failed{0};
    std::atomic<std::int64_t> in_flight{0};
    std::atomic<bool> stop{false};
    std::vector<tcp::endpoint> endpoints;  // member i → endpoints[i % n]

    bool in_window(Clock::time_point t) const { return t >= measure_from && t < measure_until; }
    std::size_t second_of(Clock::time_point t) const {
        return t < start ? 0
                         : static_cast<std::size_t>(
                               std::chrono::duration_cast<std::chrono::seconds>(t - start).count());
    }
};

std::int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

/// The integer after `key` in `text` (e.g. `"seq":`), or nullopt.
std::optional<std::int64_t> int_after(std::string_view text, std::string_view key,
                                      std::size_t from = 0) {
    auto pos = text.find(key, from);
    if (pos == std::string_view::npos) return std::nullopt;
    pos += key.size();
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data() + pos, text.data() + text.size(), v);
    if (ec != std::errc()) return std::nullopt;
    return v;
}

/// client_msg_id "<member>-<counter>-<send steady ns>": the send time.
std::optional<std::int64_t> sent_ns_of(std::string_view text) {
    constexpr std::string_view kKey = R"("client_msg_id":"lg-)";
    auto pos = text.find(kKey);
    if (pos == std::string_view::npos) return std::nullopt;
    auto end = text.find('"', pos + kKey.size());
    if (end == std::string_view::npos) return std::nullopt;
    auto id = text.substr(pos + kKey.size(), end - pos - kKey.size());
    auto dash = id.rfind('-');
    if (dash == std::string_view::npos) return std::nullopt;
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(id.data() + dash + 1, id.data() + id.size(), v);
    if (ec != std::errc()) return std::nullopt;
    return v;
}

void observe(Run& run, Member& m, ThreadStats& st, std::int64_t seq,
             std::optional<std::int64_t> sent) {
    const auto now = Clock::now();
    const auto last = m.oracle.last();
    const auto verdict = m.oracle.observe(seq);
    if (verdict == SeqOracle::Verdict::duplicate) {
        ++st.duplicated;
        if (st.examples.size() < 10) {
            st.examples.push_back("duplicate: room " + std::to_string(m.room_id) + " seq " +
                                  std::to_string(seq) + " at user " + std::to_string(m.user_id));
        }
        return;
    }
    if (verdict == SeqOracle::Verdict::reordered) {
        ++st.reordered;
        if (st.examples.size() < 10) {
            st.examples.push_back("reordered: room " + std::to_string(m.room_id) + " seq " +
                                  std::to_string(seq) + " after " + std::to_string(last) +
                                  " at user " + std::to_string(m.user_id));
        }
    }
    m.distinct.store(m.oracle.distinct(), std::memory_order_relaxed);
    ++st.delivered;
    if (sent) {
        const auto sent_at = Clock::time_point(std::chrono::nanoseconds(*sent));
        if (run.in_window(sent_at)) {
            st.deliver.record(static_cast<std::uint64_t>((now_ns() - *sent) / 1000));
            st.bump(st.deliveries_per_s, run.second_of(now));
        }
    }
}

void on_message(Run& run, Member& m, ThreadStats& st, std::string_view text) {
    // The Message payload's seq (the envelope has no seq of its own).
    auto payload = text.find(R"("payload":)");
    auto seq = int_after(text, R"("seq":)", payload == std::string_view::npos ? 0 : payload);
    if (!seq || *seq <= 0) {
        st.error("message without seq");
        return;
    }
    if (m.resuming) {
        m.held.emplace_back(*seq, sent_ns_of(text));
        return;
    }
    if (*seq <= m.resumed_upto && *seq <= m.oracle.last()) {
        // A live frame of a message a resume already brought (its publish trailed the
        // resume's query, on a subscription that started with the reconnect): the client
        // contract is to dedupe by seq. Above what resumes brought, the strict rule holds.
        ++st.recoveries["overlap dropped"];
        return;
    }
    observe(run, m, st, *seq, sent_ns_of(text));
}

/// Hands the held frames to the oracle in seq order: those at or below the last delivered are
/// the expected overlap of resume and live frames (dropped, as a client dedupes by seq); with
/// `all` false only the contiguous run after the last goes (the page continues).
void release_held(Run& run, Member& m, ThreadStats& st, bool all) {
    std::sort(m.held.begin(), m.held.end());
    std::size_t i = 0;
    for (; i < m.held.size(); ++i) {
        const auto [seq, sent] = m.held[i];
        if (seq <= m.oracle.last()) continue;
        if (!all && seq != m.oracle.last() + 1) break;
        observe(run, m, st, seq, sent);
    }
    m.held.erase(m.held.begin(), m.held.begin() + static_cast<std::ptrdiff_t>(i));
}

asio::awaitable<void> flush(Member* m) {
    if (m->writing) co_return;  // the running flush sends it
    m->writing = true;
    while (!m->outbox.empty() && m->open) {
        const std::string frame = std::move(m->outbox.front());
        m->outbox.pop_front();
        m->ws->text(true);
        auto [ec, n] = co_await m->ws->async_write(asio::buffer(frame), kTuple);
        if (ec) break;  // the read loop sees the close
    }
    m->writing = false;
}

void send_resume(Run& run, Member& m) {
    m.resuming = true;
    m.resume_again = false;
    m.outbox.push_back(R"({"type":"resume","payload":{"rooms":{")" + std::to_string(m.room_id) +
                       R"(":)" + std::to_string(m.oracle.last()) + "}}}");
    asio::co_spawn(*run.contexts[m.thread], flush(&m), asio::detached);
}

void on_ack(Run& run, Member& m, ThreadStats& st, std::string_view text) {
    --m.in_flight;
    run.in_flight.fetch_sub(1, std::memory_order_relaxed);
    ++st.acked;
    auto payload = text.find(R"("payload":)");
    if (auto seq = int_after(text, R"("seq":)", payload == std::string_view::npos ? 0 : payload)) {
        auto& max = run.rooms[m.room]->max_acked;
        auto cur = max.load(std::memory_order_relaxed);
        while (cur < *seq && !max.compare_exchange_weak(cur, *seq)) {
        }
    }
    if (auto sent = sent_ns_of(text)) {
        if (run.in_window(Clock::time_point(std::chrono::nanoseconds(*sent)))) {
            st.ack.record(static_cast<std::uint64_t>((now_ns() - *sent) / 1000));
        }
    }
    if (m.ack_signal) m.ack_signal->cancel();
}

void on_frame(Run& run, Member& m, std::string_view text) {
    ThreadStats& st = run.stats[m.thread];
    if (text.starts_with(R"({"type":"message")")) {
        on_message(run, m, st, text);
    } else if (text.starts_with(R"({"type":"ack")")) {
        on_ack(run, m, st, text);
    } else if (text.starts_with(R"({"type":"resync_required")")) {
        ++st.recoveries["resync_required"];
        if (!run.options.resilient) {
            st.error("resync_required");
        } else if (m.resuming) {
            m.resume_again = true;  // after the outstanding one: two would overlap
        } else {
            send_resume(run, m);
        }
    } else if (text.starts_with(R"({"type":"resumed")")) {
        const bool more = text.find(R"("more":true)") != std::string_view::npos;
        if (auto upto = int_after(text, R"("last_seq":)")) {
            m.resumed_upto = std::max(m.resumed_upto, *upto);
        }
        if (more || m.resume_again) {
            release_held(run, m, st, false);  // what follows the last seq comes next
            send_resume(run, m);
        } else {
            release_held(run, m, st, true);
            m.resuming = false;
        }
    } else if (text.starts_with(R"({"type":"error")")) {
        auto pos = text.find(R"("error":")");
        std::string what =
            pos == std::string_view::npos
                ? "error frame"
                : std::string(text.substr(pos + 9, text.find('"', pos + 9) - pos - 9));
        st.error("error frame: " + what);
        // A refused send is acked by nothing else.
        if (m.in_flight > 0) {
            --m.in_flight;
            run.in_flight.fetch_sub(1, std::memory_order_relaxed);
        }
    }
}

asio::awaitable<bool> open_socket(Run* run, Member* m);

/// --resilient: after a close, the next servers in turn until one takes the socket (the dead
/// one is skipped by trying each once per round), then resume from the last seq delivered.
asio::awaitable<bool> reconnect(Run* run, Member* m) {
    ThreadStats& st = run->stats[m->thread];
    asio::steady_timer wait(*run->contexts[m->thread]);
    // A write still pending on the dead stream ends with an error first: the stream it runs
    // on must outlive it.
    for (int i = 0; i < 100 && m->writing; ++i) {
        wait.expires_after(std::chrono::milliseconds(10));
        co_await wait.async_wait(kTuple);
    }
    if (m->writing) co_return false;
    for (int round = 0; round < 20 && !run->stop.load(); ++round) {
        for (std::size_t i = 0; i < run->endpoints.size(); ++i) {
            ++m->attempt;
            bool ok = false;
            try {
                ok = co_await open_socket(run, m);
            } catch (const std::exception&) {
                ok = false;
            }
            if (ok) {
                ++st.recoveries["reconnected"];
                run->in_flight.fetch_sub(m->in_flight, std::memory_order_relaxed);
                m->in_flight = 0;  // unacked sends: committed or not, resume tells
                m->outbox.clear();
                send_resume(*run, *m);
                co_return true;
            }
        }
        wait.expires_after(std::chrono::milliseconds(250));
        co_await wait.async_wait(kTuple);
    }
    co_return false;
}

asio::awaitable<void> read_loop(Run* run, Member* m) {
    beast::flat_buffer buffer;
    for (;;) {
        auto [ec, n] = co_await m->ws->async_read(buffer, kTuple);
        if (ec) {
            m->open = false;
            if (run->stop.load()) co_return;
            bool again = false;
            if (run->options.resilient) again = co_await reconnect(run, m);
            if (again) {
                buffer.consume(buffer.size());
                continue;
            }
            run->stats[m->thread].error("socket closed: " + ec.message());
            co_return;
        }
        std::string_view text(static_cast<const char*>(buffer.data().data()), buffer.size());
        on_frame(*run, *m, text);
        buffer.consume(buffer.size());
    }
}

asio::awaitable<bool> open_socket(Run* run, Member* m) {
    auto& io = *run->contexts[m->thread];
    beast::tcp_stream stream(io);
    boost::system::error_code ec;
    if (!run->options.sources.empty()) {
        const auto& src = run->options.sources[m->index % run->options.sources.size()];
        stream.socket().open(tcp::v4(), ec);
        if (!ec) stream.socket().bind(tcp::endpoint(asio::ip::make_address(src), 0), ec);
        if (ec) {
            run->stats[m->thread].error("bind: " + ec.message());
            co_return false;
        }
    }
    stream.expires_after(std::chrono::seconds(30));
    const tcp::endpoint endpoint = run->endpoints[(m->index + m->attempt) % run->endpoints.size()];
    auto [cec] = co_await stream.async_connect(endpoint, kTuple);
    if (cec) {
        run->stats[m->thread].error("connect: " + cec.message());
        co_return false;
    }
    stream.socket().set_option(tcp::no_delay(true), ec);
    m->ws = std::make_unique<websocket::stream<beast::tcp_stream>>(std::move(stream));
    const std::string auth = "Bearer " + m->token;
    m->ws->set_option(websocket::stream_base::decorator(
        [auth](websocket::request_type& req) { req.set(http::field::authorization, auth); }));
    const std::string host = run->options.host;
    const std::string target = "/ws?room_id=" + std::to_string(m->room_id);
    auto [hec] = co_await m->ws->async_handshake(host, target, kTuple);
    if (hec) {
        run->stats[m->thread].error("handshake: " + hec.message());
        co_return false;
    }
    beast::get_lowest_layer(*m->ws).expires_never();
    m->ws->set_option(websocket::stream_base::timeout{std::chrono::seconds(30),
                                                      websocket::stream_base::none(), false});
    m->open = true;
    co_return true;
}

/// Opens the sockets of one thread, `window` handshakes at a time (a worker per slot). The
/// workers share `list`: the last one can still be looking at it after the caller saw every
/// socket counted and moved on.
asio::awaitable<void> connect_worker(Run* run, std::shared_ptr<const std::vector<Member*>> list,
                                     std::shared_ptr<std::size_t> next) {
    while (*next < list->size()) {
        Member* m = (*list)[(*next)++];
        bool ok = false;
        try {
            ok = co_await open_socket(run, m);
        } catch (const std::exception& e) {
            run->stats[m->thread].error(std::string("connect: ") + e.what());
        }
        if (ok) {
            run->connected.fetch_add(1);
            asio::co_spawn(*run->contexts[m->thread], read_loop(run, m), asio::detached);
        } else {
            run->connect_failed.fetch_add(1);
        }
    }
}

asio::awaitable<void> send_loop(Run* run, Member* m, std::chrono::nanoseconds interval,
                                Clock::time_point first) {
    auto& io = *run->contexts[m->thread];
    ThreadStats& st = run->stats[m->thread];
    m->ack_signal = std::make_unique<asio::steady_timer>(io);
    asio::steady_timer pace(io);
    auto next = first;
    std::uint64_t counter = 0;
    std::string frame;
    asio::steady_timer down(io);
    while ((m->open || run->options.resilient) && Clock::now() < run->measure_until) {
        if (!m->open) {  // reconnecting (--resilient)
            down.expires_after(std::chrono::milliseconds(20));
            co_await down.async_wait(kTuple);
            continue;
        }
        if (interval.count() > 0) {
            pace.expires_at(next);
            co_await pace.async_wait(kTuple);
            next += interval;
            if (m->in_flight >= run->options.max_in_flight) {
                st.error("sender behind (max in flight)");
                continue;
            }
        } else {
            while (m->in_flight > 0 && m->open && Clock::now() < run->measure_until) {
                m->ack_signal->expires_after(std::chrono::milliseconds(50));
                co_await m->ack_signal->async_wait(kTuple);
            }
        }
        if (Clock::now() >= run->measure_until) break;
        if (!m->open) {
            if (!run->options.resilient) break;
            continue;  // down while pacing: wait for the reconnect above
        }
        frame = R"({"type":"message","payload":{"body":"loadgen message )" +
                std::to_string(counter) + R"(","client_msg_id":"lg-)" + std::to_string(m->index) +
                "-" + std::to_string(counter) + "-" + std::to_string(now_ns()) + R"("}})";
        ++counter;
        ++m->in_flight;
        run->in_flight.fetch_add(1, std::memory_order_relaxed);
        ++st.sent;
        st.bump(st.sends_per_s, run->second_of(Clock::now()));
        m->outbox.push_back(frame);
        co_await flush(m);
    }
}

// ---- HTTP (history) --------------------------------------------------------------------------

asio::awaitable<void> history_worker(Run* run, std::size_t worker) {
    const auto& pop = run->population;
    const std::size_t thread = worker % run->contexts.size();
    auto& io = *run->contexts[thread];
    ThreadStats& st = run->stats[thread];
    std::mt19937_64 rng(worker * 7919 + 1);
    beast::tcp_stream stream(io);
    const tcp::endpoint endpoint = run->endpoints[worker % run->endpoints.size()];
    auto [cec] = co_await stream.async_connect(endpoint, kTuple);
    if (cec) {
        st.error("connect: " + cec.message());
        co_return;
    }
    beast::flat_buffer buffer;
    std::uint64_t n = 0;
    while (Clock::now() < run->measure_until) {
        const std::size_t user = rng() % pop.users.size();
        const std::size_t room = user / static_cast<std::size_t>(pop.members);
        http::request<http::string_body> req;
        req.method(http::verb::get);
        req.target(n++ % 2 == 0
                       ? "/api/v1/rooms/" + std::to_string(pop.rooms[room]) + "/messages?limit=50"
                       : std::string("/api/v1/rooms?limit=50"));
        req.set(http::field::host, run->options.host);
        req.set(http::field::authorization, "Bearer " + pop.tokens[user]);
        req.keep_alive(true);
        const auto sent = Clock::now();
        stream.expires_after(std::chrono::seconds(30));
        auto [wec, wn] = co_await http::async_write(stream, req, kTuple);
        if (wec) {
            st.error("write: " + wec.message());
            co_return;
        }
        http::response<http::string_body> res;
        auto [rec, rn] = co_await http::async_read(stream, buffer, res, kTuple);
        if (rec) {
            st.error("read: " + rec.message());
            co_return;
        }
        const auto done = Clock::now();
        if (res.result_int() != 200) st.error("status " + std::to_string(res.result_int()));
        if (run->in_window(sent)) {
            ++st.requests;
            st.request.record(static_cast<std::uint64_t>(
                std::chrono::duration_cast<std::chrono::microseconds>(done - sent).count()));
            st.bump(st.requests_per_s, run->second_of(done));
        }
    }
}

// ---- orchestration ---------------------------------------------------------------------------

void wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
    const auto until = Clock::now() + timeout;
    while (!done() && Clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

std::chrono::milliseconds ms(double seconds) {
    return std::chrono::milliseconds(static_cast<long>(seconds * 1000));
}

/// --procs: the parent of the connection workers. Sums what they report: "connected N FAILED"
/// once they hold their sockets (the server's RSS is sampled when all have), "open N" after
/// the hold.
int run_parent(const Options& options, int fd, const std::vector<pid_t>& children,
               double provision_s) {
    const ProcSample before = sample(options.server_pids);
    const auto started = Clock::now();
    FILE* in = fdopen(fd, "r");
    Report report;
    report.scenario = options.scenario;
    report.provision_seconds = provision_s;
    int connected_lines = 0, open_lines = 0;
    ProcSample after{};
    char word[32];
    long long a = 0, b = 0;
    while (open_lines < options.procs && std::fscanf(in, "%31s %lld", word, &a) == 2) {
        if (std::string(word) == "connected" && std::fscanf(in, "%lld", &b) == 1) {
            report.connected += a;
            report.connect_failed += b;
            if (++connected_lines == options.procs) {
                report.connect_seconds =
                    std::chrono::duration<double>(Clock::now() - started).count();
                after = sample(options.server_pids);
                std::printf("connected %lld sockets over %d processes in %.2f s\n",
                            static_cast<long long>(report.connected), options.procs,
                            report.connect_seconds);
            }
        } else if (std::string(word) == "open") {
            report.still_open += a;
            ++open_lines;
        }
    }
    std::fclose(in);
    int failed_workers = 0;
    for (auto child : children) {
        int status = 0;
        waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed_workers;
    }
    if (!options.server_pids.empty() && report.connected > 0) {
        report.server_rss_kib = after.rss_kib;
        report.rss_per_connection_bytes =
            (after.rss_kib - before.rss_kib) * 1024.0 / static_cast<double>(report.connected);
    }
    report.duration = options.duration;
    report.parameters = {{"connections", std::to_string(options.connections)},
                         {"procs", std::to_string(options.procs)},
                         {"servers", std::to_string(options.ports.size())},
                         {"threads_per_proc", std::to_string(options.threads)}};
    print_summary(report);
    if (!options.json_out.empty()) write_json(report, options.json_out);
    if (!options.html_out.empty()) write_html(report, options.html_out);
    return report.connect_failed > 0 || failed_workers > 0 || open_lines < options.procs ? 1 : 0;
}

int run_scenario(const Options& options) {
    Run run;
    run.options = options;
    int rooms = options.rooms, members = options.members, messages = 0;
    if (options.scenario == "connections") {
        rooms = (options.connections + members - 1) / members;
    } else if (options.scenario == "history") {
        messages = options.history_messages;
    }
    const auto provision_started = Clock::now();
    run.population = provision(options.dsn, options.jwt_secret, rooms, members, messages);
    const double provision_s =
        std::chrono::duration<double>(Clock::now() - provision_started).count();
    std::printf("provisioned tenant=%s users=%zu rooms=%zu in %.2f s\n",
                run.population.tenant.c_str(), run.population.users.size(),
                run.population.rooms.size(), provision_s);

    for (auto port : options.ports) {
        run.endpoints.emplace_back(asio::ip::make_address(options.host), port);
    }
    // --procs: worker processes, forked here while this process has no threads; worker k owns
    // the sockets with index % procs == k and reports to the parent through a pipe.
    std::size_t slice = 0;
    int report_fd = -1;
    if (options.procs > 1) {
        std::fflush(stdout);  // children must not repeat what is buffered
        int fds[2];
        if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
        std::vector<pid_t> children;
        for (int k = 0; k < options.procs; ++k) {
            const pid_t child = fork();
            if (child < 0) throw std::runtime_error("fork failed");
            if (child == 0) {
                close(fds[0]);
                slice = static_cast<std::size_t>(k);
                report_fd = fds[1];
                break;
            }
            children.push_back(child);
        }
        if (report_fd < 0) {
            close(fds[1]);
            return run_parent(options, fds[0], children, provision_s);
        }
    }
    for (int i = 0; i < options.threads; ++i) {
        run.contexts.push_back(std::make_unique<asio::io_context>(1));
    }
    run.stats.resize(static_cast<std::size_t>(options.threads));
    for (std::size_t r = 0; r < run.population.rooms.size(); ++r) {
        run.rooms.push_back(std::make_unique<Room>());
    }
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    for (auto& c : run.contexts) guards.push_back(asio::make_work_guard(*c));
    std::vector<std::thread> threads;
    for (auto& c : run.contexts) threads.emplace_back([io = c.get()] { io->run(); });

    const ProcSample before_connect = sample(options.server_pids);
    Report report;
    report.scenario = options.scenario;
    report.provision_seconds = provision_s;

    std::size_t socket_count = 0;
    if (options.scenario != "history") {
        socket_count = options.scenario == "connections"
                           ? static_cast<std::size_t>(options.connections)
                           : run.population.users.size();
        std::vector<std::vector<Member*>> per_thread(run.contexts.size());
        std::size_t mine = 0;
        for (std::size_t i = 0; i < socket_count; ++i) {
            if (i % static_cast<std::size_t>(options.procs) != slice) continue;
            ++mine;
            auto m = std::make_unique<Member>();
            m->index = i;
            m->thread = i % run.contexts.size();
            m->user_id = run.population.users[i];
            m->room = i / static_cast<std::size_t>(members);
            m->room_id = run.population.rooms[m->room];
            m->token = run.population.tokens[i];
            per_thread[m->thread].push_back(m.get());
            run.members.push_back(std::move(m));
        }
        const auto connect_started = Clock::now();
        for (std::size_t t = 0; t < run.contexts.size(); ++t) {
            auto next = std::make_shared<std::size_t>(0);
            auto list = std::make_shared<const std::vector<Member*>>(std::move(per_thread[t]));
            for (int w = 0; w < options.connect_window; ++w) {
                asio::co_spawn(*run.contexts[t], connect_worker(&run, list, next), asio::detached);
            }
        }
        wait_until(
            [&] {
                return run.connected.load() + run.connect_failed.load() >=
                       static_cast<std::int64_t>(mine);
            },
            std::chrono::minutes(5));
        if (report_fd >= 0) {
            const std::string line = "connected " + std::to_string(run.connected.load()) + " " +
                                     std::to_string(run.connect_failed.load()) + "\n";
            if (write(report_fd, line.data(), line.size()) < 0) std::perror("loadgen worker");
        }
        report.connect_seconds =
            std::chrono::duration<double>(Clock::now() - connect_started).count();
        report.connected = run.connected.load();
        report.connect_failed = run.connect_failed.load();
        std::printf("connected %lld/%zu sockets in %.2f s (%.0f/s)\n",
                    static_cast<long long>(report.connected), socket_count, report.connect_seconds,
                    report.connected / report.connect_seconds);
    }
    const ProcSample after_connect = sample(options.server_pids);
    if (!options.server_pids.empty() && report.connected > 0) {
        report.server_rss_kib = after_connect.rss_kib;
        report.rss_per_connection_bytes =
            (after_connect.rss_kib - before_connect.rss_kib) * 1024.0 / report.connected;
    }

    run.start = Clock::now();
    run.measure_from = run.start + ms(options.warmup);
    run.measure_until = run.measure_from + ms(options.duration);
    ProcSample window_start{};

    if (options.scenario == "fanout") {
        // Senders: spread over rooms (sender s sends in room s % rooms).
        const int senders = std::min<int>(options.senders, static_cast<int>(run.members.size()));
        const auto interval =
            options.rate > 0
                ? std::chrono::nanoseconds(static_cast<long long>(1e9 * senders / options.rate))
                : std::chrono::nanoseconds(0);
        for (int s = 0; s < senders; ++s) {
            const std::size_t room = static_cast<std::size_t>(s) % run.population.rooms.size();
            const std::size_t slot = static_cast<std::size_t>(s) / run.population.rooms.size();
            Member* m = run.members[room * static_cast<std::size_t>(members) +
                                    slot % static_cast<std::size_t>(members)]
                            .get();
            const auto offset =
                interval.count() > 0 ? interval * s / senders : std::chrono::nanoseconds(0);
            asio::co_spawn(*run.contexts[m->thread],
                           send_loop(&run, m, interval, run.start + offset), asio::detached);
        }
    } else if (options.scenario == "history") {
        for (int w = 0; w < options.workers; ++w) {
            const std::size_t t = static_cast<std::size_t>(w) % run.contexts.size();
            asio::co_spawn(*run.contexts[t], history_worker(&run, static_cast<std::size_t>(w)),
                           asio::detached);
        }
    }
    std::this_thread::sleep_until(run.measure_from);
    window_start = sample(options.server_pids);
    const long db_start = tree_cpu_ticks(options.db_pids), self_start = self_cpu_ticks();
    std::this_thread::sleep_until(run.measure_until);
    const ProcSample window_end = sample(options.server_pids);
    const long db_end = tree_cpu_ticks(options.db_pids), self_end = self_cpu_ticks();

    if (options.scenario == "fanout") {
        // Every send acked (or failed), then every member holds every acked message.
        wait_until([&] { return run.in_flight.load() <= 0; }, ms(options.drain));
        wait_until(
            [&] {
                for (const auto& m : run.members) {
                    if (!m->open) continue;
                    if (m->distinct.load() < run.rooms[m->room]->max_acked.load()) return false;
                }
                return true;
            },
            ms(options.drain));
    }
    run.stop = true;
    for (auto& c : run.contexts) c->stop();
    for (auto& t : threads) t.join();
    if (options.scenario == "connections") {
        // A socket the server dropped during the hold has ended its read loop.
        std::int64_t open = 0;
        for (const auto& m : run.members) open += m->open ? 1 : 0;
        report.still_open = open;
        if (report_fd >= 0) {
            const std::string line = "open " + std::to_string(open) + "\n";
            if (write(report_fd, line.data(), line.size()) < 0) std::perror("loadgen worker");
            _exit(0);
        }
    }

    // ---- results ----
    ThreadStats total;
    for (auto& st : run.stats) {
        total.deliver.merge(st.deliver);
        total.ack.merge(st.ack);
        total.request.merge(st.request);
        total.sent += st.sent;
        total.acked += st.acked;
        total.delivered += st.delivered;
        total.requests += st.requests;
        total.duplicated += st.duplicated;
        total.reordered += st.reordered;
        for (const auto& [k, v] : st.errors) total.errors[k] += v;
        for (const auto& [k, v] : st.recoveries) total.recoveries[k] += v;
        for (auto& e : st.examples) {
            if (total.examples.size() < 10) total.examples.push_back(e);
        }
        auto add = [](std::vector<std::uint64_t>& into, const std::vector<std::uint64_t>& from) {
            if (into.size() < from.size()) into.resize(from.size(), 0);
            for (std::size_t i = 0; i < from.size(); ++i) into[i] += from[i];
        };
        add(total.sends_per_s, st.sends_per_s);
        add(total.deliveries_per_s, st.deliveries_per_s);
        add(total.requests_per_s, st.requests_per_s);
    }
    std::int64_t lost = 0, persisted = 0;
    if (options.scenario == "fanout") {
        for (const auto& r : run.rooms) persisted += r->max_acked.load();
        for (const auto& m : run.members) {
            const auto expected = run.rooms[m->room]->max_acked.load();
            const auto got = m->distinct.load();
            const auto missing = m->oracle.lost(expected);
            if (missing > 0) {
                lost += missing;
                if (total.examples.size() < 10) {
                    total.examples.push_back("lost: user " + std::to_string(m->user_id) +
                                             " in room " + std::to_string(m->room_id) + " has " +
                                             std::to_string(got) + " of " +
                                             std::to_string(expected) + " (first missing: seq " +
                                             std::to_string(m->oracle.first_missing(expected)) +
                                             ")" + (m->open ? "" : " (socket closed)"));
                }
            }
        }
    }
    report.duration = options.duration;
    report.sent = total.sent;
    report.acked = total.acked;
    report.persisted = persisted;
    report.delivered = total.delivered;
    report.requests = total.requests;
    report.lost = lost;
    report.duplicated = total.duplicated;
    report.reordered = total.reordered;
    report.deliver = total.deliver;
    report.ack = total.ack;
    report.request = total.request;
    report.errors = total.errors;
    report.recoveries = total.recoveries;
    report.examples = total.examples;
    report.sends_per_s = total.sends_per_s;
    report.deliveries_per_s = total.deliveries_per_s;
    report.requests_per_s = total.requests_per_s;
    {
        const double per_percent =
            static_cast<double>(sysconf(_SC_CLK_TCK)) * options.duration / 100.0;
        report.loadgen_cpu_percent = static_cast<double>(self_end - self_start) / per_percent;
        if (!options.db_pids.empty()) {
            report.db_cpu_percent = static_cast<double>(db_end - db_start) / per_percent;
        }
    }
    if (!options.server_pids.empty()) {
        const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
        report.server_cpu_percent =
            (window_end.cpu_ticks - window_start.cpu_ticks) / ticks / options.duration * 100.0;
        report.server_rss_kib = std::max(report.server_rss_kib, window_end.rss_kib);
    }
    report.parameters = {{"rooms", std::to_string(run.population.rooms.size())},
                         {"members", std::to_string(members)},
                         {"senders", std::to_string(options.senders)},
                         {"rate", std::to_string(options.rate)},
                         {"duration_s", std::to_string(options.duration)},
                         {"warmup_s", std::to_string(options.warmup)},
                         {"threads", std::to_string(options.threads)},
                         {"sockets", std::to_string(socket_count)},
                         {"workers", std::to_string(options.workers)}};
    print_summary(report);
    if (!options.json_out.empty()) write_json(report, options.json_out);
    if (!options.html_out.empty()) write_html(report, options.html_out);
    const bool oracle_failed =
        options.scenario == "fanout" && (lost > 0 || total.duplicated > 0 || total.reordered > 0);
    if (oracle_failed) {
        std::printf("ORACLE: %lld lost, %llu duplicated, %llu reordered — FAIL\n",
                    static_cast<long long>(lost), static_cast<unsigned long long>(total.duplicated),
                    static_cast<unsigned long long>(total.reordered));
        return 1;
    }
    if (options.scenario == "fanout") {
        if (persisted == 0) {
            std::printf("ORACLE: nothing was persisted — FAIL\n");
            return 1;
        }
        std::printf("ORACLE: every acked message reached every member once, in seq order — OK\n");
    }
    if (report.connect_failed > 0) return 1;
    return 0;
}

}  // namespace msg::loadgen

int main(int argc, char** argv) {
    auto options = msg::loadgen::parse(argc, argv);
    try {
        return msg::loadgen::run_scenario(options);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "msg_loadgen: %s\n", e.what());
        return 2;
    }
}
