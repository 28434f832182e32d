#include "transport/ws_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <atomic>
#include <mutex>

#include "core/credentials.hpp"
#include "transport/error_response.hpp"
#include "transport/pipeline.hpp"

namespace msg::transport {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
using WsStream = websocket::stream<beast::tcp_stream>;

namespace {

std::atomic<std::uint64_t> g_next_socket_id{1};

/// A token bucket in the reader's hands (one thread): `take` spends, possibly into debt, and
/// says how long to pause so the average stays at `rate` per second.
class Throttle {
  public:
    explicit Throttle(double rate) : rate_(rate), burst_(2 * rate), tokens_(2 * rate) {}
    std::chrono::steady_clock::duration take(double amount,
                                             std::chrono::steady_clock::time_point now) {
        if (rate_ <= 0) return {};
        const double elapsed = std::chrono::duration<double>(now - updated_).count();
        updated_ = now;
        tokens_ = std::min(burst_, tokens_ + elapsed * rate_) - amount;
        if (tokens_ >= 0) return {};
        return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(-tokens_ / rate_));
    }

  private:
    double rate_, burst_, tokens_;
    std::chrono::steady_clock::time_point updated_ = std::chrono::steady_clock::now();
};

/// The server side of one socket. Every member is touched only on the socket's own executor
/// (connections are pinned to one single-threaded io_context); send()/close() from other
/// threads post there first.
class Connection final : public core::WsConnection,
                         public std::enable_shared_from_this<Connection> {
  public:
    Connection(WsStream& ws, const WsOptions& o)
        : ws_(ws),
          ex_(ws.get_executor()),
          options_(o),
          wake_(ex_),
          done_(ex_),
          tick_(ex_),
          id_(g_next_socket_id.fetch_add(1)),
          last_heard_(Steady::now()),
          control_budget_(o.frames_per_second) {}

    void send(core::Frame frame) override {
        // FIFO per socket in call order: frames go into a locked inbox that the single writer
        // drains; the post only wakes it. (Posting each frame would not keep the order: a post
        // from a thread running the same io_context goes to that thread's private queue.)
        bool overflow = false, wake = false;
        {
            std::lock_guard lock(inbox_mutex_);
            if (closed_) return;
            if (inbox_.size() - inbox_head_ >= options_.queue_limit) {
                overflow = true;
            } else {
                inbox_.push_back(std::move(frame));
                wake = !wake_posted_;
                wake_posted_ = true;
            }
        }
        if (overflow) {
            close(1013, "slow consumer");
        } else if (wake) {
            asio::post(ex_, [self = shared_from_this()] { self->wake_.cancel(); });
        }
    }

    void close(unsigned short code, std::string reason) override {
        asio::post(ex_, [self = shared_from_this(), code, r = std::move(reason)] {
            // A writer stuck on a full TCP buffer gets no close frame through. A slow consumer
            // (1013) is cut at once; a socket whose rights ended (revoked, removed: 4401/4403,
            // 1008) gets its close frame after the write in progress, or is cut if that write
            // is still stuck a second later — a peer that stops reading must not keep a revoked
            // socket alive.
            const Cut policy = code == 1013                   ? Cut::now_if_writing
                               : code == 1008 || code >= 4000 ? Cut::if_stuck
                                                              : Cut::never;
            self->begin_close(code, r, policy);
        });
    }

    /// Once a close has begun, the peer's frames are no longer handled.
    bool closing() const { return closing_ || stopped_; }

    /// The token's expiry (unix seconds; 0: none): the watchdog closes the socket then (4401).
    void expire_at(std::int64_t unix_seconds) { expires_at_ = unix_seconds; }

    /// Anything received from the peer: a data frame, or a ping/pong/close (the control
    /// callback). Only this keeps a socket alive; our own writes do not.
    void heard() { last_heard_ = Steady::now(); }

    /// A ping or pong from the peer (the control callback, on the reader): Beast answers each
    /// ping by itself and the reader never sees them, so they are charged here, against the
    /// same frames-per-second budget as data frames. A peer more than two seconds' worth
    /// over it is flooding: closed (1008).
    void control_frame() {
        heard();
        const auto now = Steady::now();
        if (control_budget_.take(1, now) > std::chrono::seconds(2) && !closing()) {
            close(1008, "too many control frames");
        }
    }

    std::uint64_t id() const override { return id_; }

    /// The single writer: drains the inbox, sends the pings the watchdog marks due, and the
    /// close frame.
    asio::awaitable<void> write_loop() {
        for (;;) {
            if (stopped_) break;
            if (closing_) {
                writing_ = true;
                co_await ws_.async_close(close_reason_, kTuple);
                writing_ = false;
                break;
            }
            if (ping_due_) {
                // Due on the watchdog's schedule, before any queued frame: a socket that keeps
                // receiving broadcasts is pinged too, so a healthy peer always has something to
                // answer within the idle timeout.
                ping_due_ = false;
                writing_ = true;
                auto [pec] = co_await ws_.async_ping(empty_ping_, kTuple);
                writing_ = false;
                if (pec) break;
                continue;
            }
            core::Frame frame;
            {
                std::lock_guard lock(inbox_mutex_);
                wake_posted_ = false;
                if (inbox_head_ < inbox_.size()) {
                    frame = std::move(inbox_[inbox_head_++]);
                    if (inbox_head_ == inbox_.size()) {
                        // Drained: start over at the front; a burst's buffer is not kept.
                        inbox_head_ = 0;
                        inbox_.clear();
                        if (inbox_.capacity() > kKeptInboxCapacity) inbox_.shrink_to_fit();
                    } else if (inbox_head_ >= kKeptInboxCapacity &&
                               inbox_head_ * 2 >= inbox_.size()) {
                        // Never drained under a steady flow: drop the sent half (amortized
                        // O(1) a frame) so the vector stays within twice the queue bound.
                        inbox_.erase(inbox_.begin(),
                                     inbox_.begin() + static_cast<std::ptrdiff_t>(inbox_head_));
                        inbox_head_ = 0;
                    }
                }
            }
            if (!frame) {
                wake_.expires_at(asio::steady_timer::time_point::max());
                co_await wake_.async_wait(kTuple);  // cancelled by send(), close(), a ping due
                continue;
            }
            ws_.text(true);
            writing_ = true;
            auto [wec, n] = co_await ws_.async_write(asio::buffer(*frame), kTuple);
            writing_ = false;
            if (wec) break;
        }
        stopped_ = true;
        {
            std::lock_guard lock(inbox_mutex_);
            closed_ = true;
            inbox_.clear();
            inbox_head_ = 0;
        }
        writer_done_ = true;
        done_.cancel();
    }

    /// The keep-alive: every ping interval, a peer silent for the idle timeout is dropped
    /// (with a close frame when the writer is free to send one), otherwise a ping is due. A
    /// silent peer is therefore gone within idle timeout + one ping interval, and a peer that
    /// answers each ping is never dropped (config requires idle timeout > ping interval).
    asio::awaitable<void> watch_loop() {
        while (!stopped_ && !closing_) {
            tick_.expires_after(options_.ping_interval);
            auto [ec] = co_await tick_.async_wait(kTuple);
            if (ec || stopped_ || closing_) break;
            if (Steady::now() - last_heard_ >= options_.idle_timeout) {
                begin_close(static_cast<unsigned short>(websocket::close_code::going_away),
                            "idle timeout", Cut::now_if_writing);
                break;
            }
            if (expires_at_ != 0 &&
                std::chrono::system_clock::now() >=
                    std::chrono::system_clock::time_point(std::chrono::seconds(expires_at_))) {
                begin_close(core::kCloseUnauthorized, "token expired", Cut::if_stuck);
                break;
            }
            ping_due_ = true;
            wake_.cancel();
        }
    }

    /// The handshake failed before the writer started: drop whatever was queued.
    void discard() {
        stopped_ = true;
        writer_done_ = true;
        std::lock_guard lock(inbox_mutex_);
        closed_ = true;
        inbox_.clear();
        inbox_head_ = 0;
    }

    /// Called by the reader when it ends: stop the writer and wait for it.
    asio::awaitable<void> stop() {
        stopped_ = true;
        {
            std::lock_guard lock(inbox_mutex_);
            closed_ = true;  // later sends are dropped: the stream is going away
            inbox_.clear();
            inbox_head_ = 0;
        }
        wake_.cancel();
        tick_.cancel();
        if (!writer_done_) {
            done_.expires_after(std::chrono::seconds(10));
            co_await done_.async_wait(kTuple);
        }
    }

  private:
    using Steady = std::chrono::steady_clock;

    /// What a close does to a writer busy in a write: nothing (the close frame follows it), cut
    /// the connection at once, or cut it if the write is still stuck a second later.
    enum class Cut { never, now_if_writing, if_stuck };

    void cut() {
        boost::system::error_code ec;
        beast::get_lowest_layer(ws_).socket().close(ec);  // reader and writer end with errors
    }

    /// On the executor. The writer sends the close frame when it is next free.
    void begin_close(unsigned short code, const std::string& reason, Cut policy) {
        if (stopped_) return;
        if (closing_) {
            // A close frame is already waiting for a stuck writer: a later reason to cut wins.
            if (policy == Cut::now_if_writing && writing_) cut();
            return;
        }
        closing_ = true;
        close_reason_ = websocket::close_reason(static_cast<websocket::close_code>(code), reason);
        if (policy == Cut::now_if_writing && writing_) cut();
        wake_.cancel();
        tick_.cancel();  // the watchdog ends; its timer serves the grace below
        if (policy == Cut::if_stuck && writing_) {
            tick_.expires_after(std::chrono::seconds(1));
            tick_.async_wait([self = shared_from_this()](const boost::system::error_code& ec) {
                if (!ec && !self->stopped_ && self->writing_) self->cut();
            });
        }
    }

    WsStream& ws_;  // valid until stop() returns; only used while !stopped_
    asio::any_io_executor ex_;
    const WsOptions& options_;
    asio::steady_timer wake_;
    asio::steady_timer done_;
    asio::steady_timer tick_;  // the watchdog's
    std::uint64_t id_;
    Steady::time_point last_heard_;
    Throttle control_budget_;
    std::int64_t expires_at_ = 0;
    bool ping_due_ = false;
    std::mutex inbox_mutex_;
    // A vector read from inbox_head_, not a deque: an idle socket's empty deque holds a
    // 512-byte block; an empty vector holds nothing. Guarded by inbox_mutex_.
    static constexpr std::size_t kKeptInboxCapacity = 64;
    std::vector<core::Frame> inbox_;
    std::size_t inbox_head_ = 0;
    bool wake_posted_ = false;  // guarded by inbox_mutex_
    bool closed_ = false;       // guarded by inbox_mutex_
    websocket::close_reason close_reason_;
    const websocket::ping_data empty_ping_{};
    bool closing_ = false;
    bool stopped_ = false;
    bool writing_ = false;
    bool writer_done_ = false;
};

asio::awaitable<void> run_writer(std::shared_ptr<Connection> conn) { co_await conn->write_loop(); }
asio::awaitable<void> run_watchdog(std::shared_ptr<Connection> conn) {
    co_await conn->watch_loop();
}

/// A credentials check that could not run (database outage) answers 503, as REST does.
template <class T>
asio::awaitable<core::Result<T>> or_unavailable(core::Task<core::Result<T>> check) {
    try {
        co_return co_await std::move(check);
    } catch (const std::exception&) {
        co_return core::unavailable("service unavailable");
    }
}

asio::awaitable<void> reject(beast::tcp_stream& stream, const core::Error& error,
                             unsigned version) {
    auto res = error_response(error);
    http::response<http::string_body> out{static_cast<http::status>(res.status), version};
    out.set(http::field::content_type, res.content_type);
    out.body() = res.body;
    out.keep_alive(false);
    out.prepare_payload();
    stream.expires_after(std::chrono::seconds(10));
    co_await http::async_write(stream, out, kTuple);
}

}  // namespace

void OpenSockets::add(const std::shared_ptr<core::WsConnection>& socket) {
    std::lock_guard lock(mutex_);
    sockets_.emplace(socket->id(), socket);
}

void OpenSockets::remove(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    sockets_.erase(id);
}

std::size_t OpenSockets::size() const {
    std::lock_guard lock(mutex_);
    return sockets_.size();
}

void OpenSockets::close_all(unsigned short code, const std::string& reason) {
    std::vector<std::shared_ptr<core::WsConnection>> open;
    {
        std::lock_guard lock(mutex_);
        open.reserve(sockets_.size());
        for (const auto& [id, weak] : sockets_) {
            if (auto s = weak.lock()) open.push_back(std::move(s));
        }
    }
    for (const auto& s : open) s->close(code, reason);  // posts to each socket's thread
}

core::Task<void> serve_websocket(beast::tcp_stream stream, http::request<http::string_body> req,
                                 const core::WsRoute& route, Pipeline& pipeline,
                                 core::HttpRequest request, const WsOptions& options,
                                 OpenSockets& open_sockets) {
    const unsigned version = req.version();
    if (route.access == core::Access::open) {
        auto origin = pipeline.check_websocket_origin(request);
        if (!origin) {
            co_await reject(stream, origin.error(), version);
            co_return;
        }
    } else {
        auto attempt = pipeline.authenticate_websocket(request);
        auto who = co_await or_unavailable(std::move(attempt));
        if (!who) {
            co_await reject(stream, who.error(), version);
            co_return;
        }
        request.principal = *who;
    }

    WsStream ws(std::move(stream));
    auto conn = std::make_shared<Connection>(ws, options);
    // Named, not converted inside the co_await expression (GCC 12 temporaries).
    std::shared_ptr<core::WsConnection> socket = conn;
    auto accepted = co_await route.accept(request, socket);
    if (!accepted) {
        co_await reject(beast::get_lowest_layer(ws), accepted.error(), version);
        co_return;
    }
    std::shared_ptr<core::WsSession> session = std::move(*accepted);
    // The owner of the socket (the JWT's, or whom the route's own handshake authenticated):
    // registered so a revocation closes it.
    std::optional<core::Principal> owner = request.principal;
    core::CredentialGuard* guard = owner ? pipeline.credentials() : nullptr;
    if (owner) conn->expire_at(owner->expires_at);
    // A revocation from now on counts. A user holding the most sockets allowed gets no more
    // (the session never opened, so it is simply dropped).
    if (guard != nullptr && !guard->watch(*owner, socket)) {
        const core::Error busy{core::ErrorCode::too_many_requests, "too many connections", 5};
        co_await reject(beast::get_lowest_layer(ws), busy, version);
        co_return;
    }
    if (guard != nullptr && route.access != core::Access::open) {
        // Checked once more now that the socket is watched: a revocation that ran while the
        // route's own handshake queried the database was missed by both the first check and
        // the socket table. (A route that authenticates itself re-checks in its on_open.)
        auto recheck = guard->check(*owner);
        auto still = co_await or_unavailable(std::move(recheck));
        if (!still) {
            guard->unwatch(*owner, conn->id());
            co_await reject(beast::get_lowest_layer(ws), still.error(), version);
            co_return;
        }
    }

    beast::get_lowest_layer(ws).expires_never();
    boost::system::error_code opt_ec;
    beast::get_lowest_layer(ws).socket().set_option(
        asio::socket_base::send_buffer_size(options.socket_send_buffer), opt_ec);
    // Beast's own idle timer is off: with keep_alive_pings=false it runs from the start of
    // each read and pongs do not reset it, so a peer answering every ping but sending nothing
    // was cut at the idle timeout without a close frame. Connection::watch_loop keeps the time
    // instead. Beast's handshake timeout also bounds the closing handshake: a peer that does
    // not answer our close frame is cut after min(ping interval, 15 s).
    const auto close_wait = std::clamp<std::chrono::seconds>(
        options.ping_interval, std::chrono::seconds(1), std::chrono::seconds(15));
    websocket::stream_base::timeout timeouts{close_wait, websocket::stream_base::none(), false};
    ws.set_option(timeouts);
    ws.control_callback([raw = conn.get()](websocket::frame_type kind, beast::string_view) {
        if (kind == websocket::frame_type::close) {
            raw->heard();
        } else {
            raw->control_frame();
        }
    });
    ws.read_message_max(options.frame_limit);
    ws.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, "msg_server"); }));
    // on_open runs before the 101 goes out: once a client sees the upgrade, the socket is in
    // its rooms and hubs (an event published right after the client connected reaches it).
    // Frames it queues wait in the inbox for the writer, which starts after the handshake.
    co_await session->on_open();
    auto [aec] = co_await ws.async_accept(req, kTuple);
    if (aec) {
        if (guard != nullptr) guard->unwatch(*owner, conn->id());
        session->on_close();
        conn->discard();
        co_return;
    }

    // The upgrade request and its copy are not needed again; the socket may live for days.
    req = {};
    request = {};

    open_sockets.add(socket);
    conn->heard();
    asio::co_spawn(ws.get_executor(), run_writer(conn), asio::detached);
    asio::co_spawn(ws.get_executor(), run_watchdog(conn), asio::detached);

    beast::flat_buffer buffer;
    Throttle frames(options.frames_per_second), bytes(options.bytes_per_second);
    asio::steady_timer pause(ws.get_executor());
    for (;;) {
        auto [rec, n] = co_await ws.async_read(buffer, kTuple);
        if (rec) break;  // closed, cut, or a frame over the limit (Beast answers 1009)
        conn->heard();
        // A flooding client is slowed down, not served faster than its budget: while the
        // reader pauses nothing more is read, so its TCP window closes and other sockets on
        // this thread keep their latency.
        const auto now = std::chrono::steady_clock::now();
        const auto wait = std::max(frames.take(1, now), bytes.take(static_cast<double>(n), now));
        if (wait > std::chrono::steady_clock::duration::zero()) {
            pause.expires_after(wait);
            co_await pause.async_wait(kTuple);
        }
        if (!ws.got_text()) {
            buffer.consume(buffer.size());
            conn->send(std::make_shared<const std::string>(
                R"({"type":"error","error":"binary frames are not supported"})"));
            continue;
        }
        std::string text = beast::buffers_to_string(buffer.data());
        buffer.consume(buffer.size());
        if (conn->closing()) continue;  // revoked, removed or dropped: read only to the close
        co_await session->on_text(std::move(text));
    }
    if (guard != nullptr) guard->unwatch(*owner, conn->id());
    session->on_close();
    co_await conn->stop();
    open_sockets.remove(conn->id());
}

}  // namespace msg::transport
