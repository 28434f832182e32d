#include "storage/pg/connection.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>
#include <ctime>

#include "core/error.hpp"
#include "core/log.hpp"

namespace msg::pg {

namespace asio = boost::asio;
using namespace asio::experimental::awaitable_operators;

Param param(std::int64_t v) { return std::to_string(v); }
Param param(int v) { return std::to_string(v); }
Param param(std::size_t v) { return std::to_string(v); }
Param param(std::string_view v) { return std::string(v); }
Param param(const std::string& v) { return v; }
Param param(const char* v) { return std::string(v); }
Param param(bool v) { return std::string(v ? "t" : "f"); }
Param param(const std::vector<std::int64_t>& v) {
    std::string out = "{";
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(v[i]);
    }
    return out + "}";
}

namespace {

/// An array element, quoted, with `"` and `\` escaped: any text round-trips (an unquoted
/// NULL is the only null).
void append_element(std::string& out, std::string_view v) {
    out += '"';
    for (char ch : v) {
        if (ch == '"' || ch == '\\') out += '\\';
        out += ch;
    }
    out += '"';
}

}  // namespace

Param param(const std::vector<std::string>& v) {
    std::string out = "{";
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        append_element(out, v[i]);
    }
    return out + "}";
}

Param param(const std::vector<std::optional<std::string>>& v) {
    std::string out = "{";
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (i) out += ',';
        if (v[i]) {
            append_element(out, *v[i]);
        } else {
            out += "NULL";
        }
    }
    return out + "}";
}

std::int64_t Rows::affected() const {
    if (!result_) return 0;
    const char* n = PQcmdTuples(result_.get());
    return n && *n ? std::stoll(n) : 0;
}

bool Rows::is_null(int row, int col) const { return PQgetisnull(result_.get(), row, col) != 0; }

std::string_view Rows::text(int row, int col) const {
    return {PQgetvalue(result_.get(), row, col),
            static_cast<std::size_t>(PQgetlength(result_.get(), row, col))};
}

std::int64_t Rows::int64(int row, int col) const {
    auto t = text(row, col);
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    if (ec != std::errc{}) throw std::runtime_error("column is not an integer");
    return v;
}

std::optional<std::int64_t> Rows::opt_int64(int row, int col) const {
    if (is_null(row, col)) return std::nullopt;
    return int64(row, col);
}

std::vector<std::int64_t> Rows::int64_array(int row, int col) const {
    // "{1,2,3}" (a bigint[] has no quotes or NULL elements here; a NULL array is empty).
    std::vector<std::int64_t> out;
    if (is_null(row, col)) return out;
    auto t = text(row, col);
    if (t.size() < 2 || t.front() != '{' || t.back() != '}') {
        throw std::runtime_error("column is not an integer array");
    }
    const char* p = t.data() + 1;
    const char* end = t.data() + t.size() - 1;
    while (p < end) {
        std::int64_t v = 0;
        auto [next, ec] = std::from_chars(p, end, v);
        if (ec != std::errc{}) throw std::runtime_error("column is not an integer array");
        out.push_back(v);
        p = next;
        if (p < end && *p == ',') ++p;
    }
    return out;
}

bool Rows::boolean(int row, int col) const { return text(row, col) == "t"; }

std::string Rows::time(int row, int col) const {
    // "2026-11-27 07:39:34.123456+00" → "2026-11-27T07:39:34.123456Z"
    std::string t(text(row, col));
    if (t.size() > 10 && t[10] == ' ') t[10] = 'T';
    if (t.ends_with("+00")) t.replace(t.size() - 3, 3, "Z");
    return t;
}

std::int64_t Rows::unix_nanos(int row, int col) const {
    auto t = text(row, col);  // "YYYY-MM-DD HH:MM:SS[.ffffff]+00"
    std::tm tm{};
    if (t.size() < 19) throw std::runtime_error("bad timestamp");
    auto num = [&](std::size_t pos, std::size_t len) {
        int v = 0;
        std::from_chars(t.data() + pos, t.data() + pos + len, v);
        return v;
    };
    tm.tm_year = num(0, 4) - 1900;
    tm.tm_mon = num(5, 2) - 1;
    tm.tm_mday = num(8, 2);
    tm.tm_hour = num(11, 2);
    tm.tm_min = num(14, 2);
    tm.tm_sec = num(17, 2);
    std::int64_t nanos = static_cast<std::int64_t>(timegm(&tm)) * 1'000'000'000;
    if (t.size() > 20 && t[19] == '.') {
        std::int64_t frac = 0;
        int digits = 0;
        for (std::size_t i = 20; i < t.size() && t[i] >= '0' && t[i] <= '9'; ++i, ++digits) {
            frac = frac * 10 + (t[i] - '0');
        }
        for (; digits < 9; ++digits) frac *= 10;
        nanos += frac;
    }
    return nanos;
}

struct Connection::Impl {
    Impl(asio::io_context& io, PGconn* c) : conn(c), socket(io) {}
    ~Impl() {
        // libpq owns the socket: forget it before PQfinish closes it.
        if (socket.is_open()) socket.release();
        PQfinish(conn);
    }

    /// Keeps the descriptor in step with PQsocket (it can change while connecting).
    void sync_socket() {
        int fd = PQsocket(conn);
        if (socket.is_open() && socket.native_handle() == fd) return;
        if (socket.is_open()) socket.release();
        if (fd >= 0) socket.assign(fd);
    }

    asio::awaitable<void> wait(asio::posix::descriptor_base::wait_type type) {
        sync_socket();
        auto [ec] = co_await socket.async_wait(type, asio::as_tuple(asio::use_awaitable));
        if (ec) {
            failed = true;
            throw core::UnavailableException("database wait failed: " + ec.message());
        }
    }

    [[noreturn]] void fail(const char* what) {
        failed = true;
        throw core::UnavailableException(std::string(what) + ": " + PQerrorMessage(conn));
    }

    PGconn* conn;
    asio::posix::stream_descriptor socket;
    std::unordered_map<std::string, std::string> prepared;  // sql → statement name
    bool failed = false;
};

Connection::Connection(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Connection::~Connection() = default;

bool Connection::broken() const { return impl_->failed || PQstatus(impl_->conn) != CONNECTION_OK; }
bool Connection::in_transaction() const { return PQtransactionStatus(impl_->conn) != PQTRANS_IDLE; }

namespace {
/// Returns the failure text ("" on success) instead of throwing: awaitable operator|| waits
/// for the first *successful* branch, so a throw would wait out the whole timeout.
asio::awaitable<std::string> poll_connect(PGconn* conn, asio::posix::stream_descriptor& socket) {
    for (;;) {
        auto status = PQconnectPoll(conn);
        if (status == PGRES_POLLING_OK) co_return std::string();
        if (status == PGRES_POLLING_FAILED) {
            std::string error = PQerrorMessage(conn);
            co_return error.empty() ? std::string("unknown error") : error;
        }
        int fd = PQsocket(conn);
        if (!socket.is_open() || socket.native_handle() != fd) {
            if (socket.is_open()) socket.release();
            socket.assign(fd);
        }
        auto type = status == PGRES_POLLING_READING ? asio::posix::descriptor_base::wait_read
                                                    : asio::posix::descriptor_base::wait_write;
        auto [ec] = co_await socket.async_wait(type, asio::as_tuple(asio::use_awaitable));
        if (ec) co_return ec.message();
    }
}

/// Server NOTICEs ("relation … already exists, skipping") go to the debug log, not stderr.
void log_notice(void*, const char* message) {
    std::string_view text(message);
    while (!text.empty() && text.back() == '\n') text.remove_suffix(1);
    core::logger("pg")->debug("notice message=\"{}\"", text);
}

asio::awaitable<void> sleep_for(asio::io_context& io, std::chrono::milliseconds d) {
    asio::steady_timer timer(io, d);
    co_await timer.async_wait(asio::use_awaitable);
}
}  // namespace

core::Task<std::unique_ptr<Connection>> Connection::connect(asio::io_context& io,
                                                            const Options& options) {
    const std::string server_options =
        "-c TimeZone=UTC -c statement_timeout=" + std::to_string(options.statement_timeout.count());
    const char* keys[] = {"dbname", "options", "application_name", "client_encoding", nullptr};
    const char* values[] = {options.dsn.c_str(), server_options.c_str(), "msg_server", "UTF8",
                            nullptr};
    PGconn* raw = PQconnectStartParams(keys, values, 1);
    if (raw == nullptr) throw std::bad_alloc();
    auto impl = std::make_unique<Impl>(io, raw);
    if (PQstatus(raw) == CONNECTION_BAD) impl->fail("database connect failed");

    auto outcome =
        co_await (poll_connect(raw, impl->socket) || sleep_for(io, options.connect_timeout));
    if (outcome.index() == 1) throw core::UnavailableException("database connect timed out");
    if (const auto& error = std::get<0>(outcome); !error.empty()) {
        throw core::UnavailableException("database connect failed: " + error);
    }
    if (PQsetnonblocking(raw, 1) != 0) impl->fail("database setnonblocking failed");
    PQsetNoticeProcessor(raw, &log_notice, nullptr);
    co_return std::unique_ptr<Connection>(new Connection(std::move(impl)));
}

core::Task<Rows> Connection::finish(bool expect_rows) {
    Impl& c = *impl_;
    // Flush what libpq could not write yet.
    for (;;) {
        int f = PQflush(c.conn);
        if (f == 0) break;
        if (f < 0) c.fail("database write failed");
        co_await c.wait(asio::posix::descriptor_base::wait_write);
        if (!PQconsumeInput(c.conn)) c.fail("database read failed");
    }
    // Collect every result; keep the first error or the last result.
    PGresult* kept = nullptr;
    PGresult* error = nullptr;
    for (;;) {
        while (PQisBusy(c.conn)) {
            co_await c.wait(asio::posix::descriptor_base::wait_read);
            if (!PQconsumeInput(c.conn)) c.fail("database read failed");
        }
        PGresult* r = PQgetResult(c.conn);
        if (r == nullptr) break;
        auto status = PQresultStatus(r);
        if ((status == PGRES_FATAL_ERROR || status == PGRES_NONFATAL_ERROR) && error == nullptr &&
            status == PGRES_FATAL_ERROR) {
            error = r;
            continue;
        }
        if (kept) PQclear(kept);
        kept = r;
    }
    Rows rows(kept);
    if (error != nullptr) {
        Rows holder(error);  // frees it
        const char* state = PQresultErrorField(error, PG_DIAG_SQLSTATE);
        const char* constraint = PQresultErrorField(error, PG_DIAG_CONSTRAINT_NAME);
        if (PQstatus(c.conn) != CONNECTION_OK) c.fail("database connection lost");
        throw SqlError(state ? state : "", PQresultErrorMessage(error),
                       constraint ? constraint : "");
    }
    if (PQstatus(c.conn) != CONNECTION_OK) c.fail("database connection lost");
    (void)expect_rows;
    co_return rows;
}

core::Task<Rows> Connection::query_params(std::string_view sql, Params params) {
    Impl& c = *impl_;
    std::string key(sql);
    auto it = c.prepared.find(key);
    if (it == c.prepared.end()) {
        std::string name = "s" + std::to_string(c.prepared.size() + 1);
        if (!PQsendPrepare(c.conn, name.c_str(), key.c_str(), 0, nullptr)) {
            c.fail("database send failed");
        }
        co_await finish(false);
        it = c.prepared.emplace(std::move(key), std::move(name)).first;
    }
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    if (!PQsendQueryPrepared(c.conn, it->second.c_str(), static_cast<int>(values.size()),
                             values.data(), nullptr, nullptr, 0)) {
        c.fail("database send failed");
    }
    co_return co_await finish(true);
}

core::Task<Rows> Connection::query_params_unprepared(std::string_view sql, Params params) {
    Impl& c = *impl_;
    std::string text(sql);
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& p : params) values.push_back(p ? p->c_str() : nullptr);
    if (!PQsendQueryParams(c.conn, text.c_str(), static_cast<int>(values.size()), nullptr,
                           values.data(), nullptr, nullptr, 0)) {
        c.fail("database send failed");
    }
    co_return co_await finish(true);
}

core::Task<void> Connection::execute(std::string_view sql) {
    std::string text(sql);
    if (!PQsendQuery(impl_->conn, text.c_str())) impl_->fail("database send failed");
    co_await finish(false);
}

}  // namespace msg::pg
