#include "amqp/connection.hpp"

#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <stdexcept>
#include <vector>

namespace msg::amqp {

namespace {

constexpr amqp_channel_t kChannel = 1;

timeval to_timeval(std::chrono::milliseconds t) {
    timeval tv{};
    tv.tv_sec = static_cast<decltype(tv.tv_sec)>(t.count() / 1000);
    tv.tv_usec = static_cast<decltype(tv.tv_usec)>((t.count() % 1000) * 1000);
    return tv;
}

amqp_bytes_t bytes(std::string_view s) {
    return {s.size(), const_cast<char*>(s.data())};  // rabbitmq-c only reads it
}

std::string text(amqp_bytes_t b) {
    return b.len == 0 ? std::string() : std::string(static_cast<const char*>(b.bytes), b.len);
}

/// The broker's reason in a connection.close or channel.close method.
std::string close_reason(const amqp_method_t& m) {
    if (m.id == AMQP_CONNECTION_CLOSE_METHOD) {
        const auto* c = static_cast<const amqp_connection_close_t*>(m.decoded);
        return "connection closed by the broker: " + std::to_string(c->reply_code) + " " +
               text(c->reply_text);
    }
    if (m.id == AMQP_CHANNEL_CLOSE_METHOD) {
        const auto* c = static_cast<const amqp_channel_close_t*>(m.decoded);
        return "channel closed by the broker: " + std::to_string(c->reply_code) + " " +
               text(c->reply_text);
    }
    return "unexpected method " + std::to_string(m.id);
}

Properties read_properties(const amqp_basic_properties_t& p) {
    Properties out;
    out.persistent = false;
    if (p._flags & AMQP_BASIC_MESSAGE_ID_FLAG) out.message_id = text(p.message_id);
    if (p._flags & AMQP_BASIC_TYPE_FLAG) out.type = text(p.type);
    if (p._flags & AMQP_BASIC_CONTENT_TYPE_FLAG) {
        out.content_type = text(p.content_type);
    } else {
        out.content_type.clear();
    }
    if (p._flags & AMQP_BASIC_DELIVERY_MODE_FLAG) out.persistent = p.delivery_mode == 2;
    if (p._flags & AMQP_BASIC_TIMESTAMP_FLAG) {
        out.timestamp = static_cast<std::int64_t>(p.timestamp);
    }
    if (p._flags & AMQP_BASIC_HEADERS_FLAG) {
        for (int i = 0; i < p.headers.num_entries; ++i) {
            const auto& e = p.headers.entries[i];
            const auto kind = e.value.kind;
            if (kind == AMQP_FIELD_KIND_UTF8 || kind == AMQP_FIELD_KIND_BYTES) {
                out.headers[text(e.key)] = text(e.value.value.bytes);
            } else if (kind == AMQP_FIELD_KIND_I64 || kind == AMQP_FIELD_KIND_TIMESTAMP) {
                out.headers[text(e.key)] = std::to_string(e.value.value.i64);
            } else if (kind == AMQP_FIELD_KIND_I32) {
                out.headers[text(e.key)] = std::to_string(e.value.value.i32);
            }
        }
    }
    return out;
}

}  // namespace

Connection::Connection(const Url& url, std::chrono::milliseconds timeout)
    : where_(url.describe()), timeout_(timeout) {
    state_ = amqp_new_connection();
    if (state_ == nullptr) throw std::runtime_error("amqp " + where_ + ": out of memory");
    try {
        amqp_socket_t* socket = amqp_tcp_socket_new(state_);
        if (socket == nullptr) fail("socket");
        timeval tv = to_timeval(timeout);
        const int rc = amqp_socket_open_noblock(socket, url.host.c_str(), url.port, &tv);
        if (rc != AMQP_STATUS_OK) fail(std::string("connect: ") + amqp_error_string2(rc));
        amqp_set_handshake_timeout(state_, &tv);
        amqp_set_rpc_timeout(state_, &tv);
        // No AMQP heartbeats (nobody services them while the thread waits elsewhere): TCP
        // keepalive and a user timeout notice a broker that vanished without closing the
        // socket (a crashed host, a partition) within ~30 s, even on an idle consumer.
        const int fd = amqp_get_sockfd(state_);
        const int on = 1, idle = 10, interval = 5, count = 3, user_timeout_ms = 30'000;
        ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
        ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
        ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
        ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms);
        // No heartbeats: the owner's thread blocks only while it works, and a dead peer shows as
        // a failed write or a confirm that does not come within the timeout.
        const amqp_rpc_reply_t login =
            amqp_login(state_, url.vhost.c_str(), 0, 131072, 0, AMQP_SASL_METHOD_PLAIN,
                       url.user.c_str(), url.password.c_str());
        if (login.reply_type != AMQP_RESPONSE_NORMAL) {
            // A refused login is a connection.close with the broker's reason (403 ACCESS_REFUSED).
            if (login.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION) {
                fail("login: " + close_reason(login.reply));
            }
            fail(std::string("login: ") + amqp_error_string2(login.library_error));
        }
        amqp_channel_open(state_, kChannel);
        check_rpc("channel open");
    } catch (...) {
        amqp_destroy_connection(state_);  // the destructor does not run for a throwing constructor
        state_ = nullptr;
        throw;
    }
}

Connection::~Connection() {
    if (state_ == nullptr) return;
    if (!broken_) {
        // Polite close; bounded by the RPC timeout when the broker is gone.
        amqp_channel_close(state_, kChannel, AMQP_REPLY_SUCCESS);
        amqp_connection_close(state_, AMQP_REPLY_SUCCESS);
    }
    amqp_destroy_connection(state_);
}

void Connection::fail(std::string_view what) {
    broken_ = true;
    throw std::runtime_error("amqp " + where_ + ": " + std::string(what));
}

void Connection::check_rpc(std::string_view what) {
    const amqp_rpc_reply_t r = amqp_get_rpc_reply(state_);
    switch (r.reply_type) {
        case AMQP_RESPONSE_NORMAL:
            return;
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            fail(std::string(what) + ": " + close_reason(r.reply));
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            fail(std::string(what) + ": " + amqp_error_string2(r.library_error));
        default:
            fail(std::string(what) + ": no reply");
    }
}

int Connection::fd() const { return amqp_get_sockfd(state_); }

void Connection::confirm_select() {
    amqp_confirm_select(state_, kChannel);
    check_rpc("confirm.select");
    confirming_ = true;
    next_tag_ = 1;
}

void Connection::declare_exchange(std::string_view name, std::string_view type) {
    amqp_exchange_declare(state_, kChannel, bytes(name), bytes(type), /*passive=*/0,
                          /*durable=*/1, /*auto_delete=*/0, /*internal=*/0, amqp_empty_table);
    check_rpc("exchange.declare");
}

void Connection::declare_queue(std::string_view name, bool durable, bool exclusive,
                               bool auto_delete) {
    amqp_queue_declare(state_, kChannel, bytes(name), /*passive=*/0, durable, exclusive,
                       auto_delete, amqp_empty_table);
    check_rpc("queue.declare");
}

void Connection::declare_queue(std::string_view name, const QueueOptions& o) {
    amqp_table_entry_t entries[3];
    int n = 0;
    if (o.message_ttl_ms > 0) {
        entries[n].key = amqp_cstring_bytes("x-message-ttl");
        entries[n].value.kind = AMQP_FIELD_KIND_I64;
        entries[n].value.value.i64 = o.message_ttl_ms;
        ++n;
    }
    if (o.dead_letter) {
        entries[n].key = amqp_cstring_bytes("x-dead-letter-exchange");
        entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
        entries[n].value.value.bytes = bytes(o.dead_letter_exchange);
        ++n;
        entries[n].key = amqp_cstring_bytes("x-dead-letter-routing-key");
        entries[n].value.kind = AMQP_FIELD_KIND_UTF8;
        entries[n].value.value.bytes = bytes(o.dead_letter_routing_key);
        ++n;
    }
    amqp_table_t args{n, n > 0 ? entries : nullptr};
    amqp_queue_declare(state_, kChannel, bytes(name), /*passive=*/0, o.durable, o.exclusive,
                       o.auto_delete, args);
    check_rpc("queue.declare");
}

void Connection::bind_queue(std::string_view queue, std::string_view exchange,
                            std::string_view key) {
    amqp_queue_bind(state_, kChannel, bytes(queue), bytes(exchange), bytes(key), amqp_empty_table);
    check_rpc("queue.bind");
}

void Connection::delete_queue(std::string_view queue) {
    amqp_queue_delete(state_, kChannel, bytes(queue), 0, 0);
    check_rpc("queue.delete");
}

void Connection::delete_exchange(std::string_view exchange) {
    amqp_exchange_delete(state_, kChannel, bytes(exchange), 0);
    check_rpc("exchange.delete");
}

std::uint32_t Connection::queue_length(std::string_view queue) {
    auto* ok = amqp_queue_declare(state_, kChannel, bytes(queue), /*passive=*/1, 0, 0, 0,
                                  amqp_empty_table);
    check_rpc("queue.declare (passive)");
    return ok->message_count;
}

std::uint64_t Connection::publish(std::string_view exchange, std::string_view routing_key,
                                  std::string_view body, const Properties& p, bool mandatory) {
    amqp_basic_properties_t props{};
    props._flags = AMQP_BASIC_DELIVERY_MODE_FLAG;
    props.delivery_mode = p.persistent ? 2 : 1;
    if (!p.content_type.empty()) {
        props._flags |= AMQP_BASIC_CONTENT_TYPE_FLAG;
        props.content_type = bytes(p.content_type);
    }
    if (!p.message_id.empty()) {
        props._flags |= AMQP_BASIC_MESSAGE_ID_FLAG;
        props.message_id = bytes(p.message_id);
    }
    if (!p.type.empty()) {
        props._flags |= AMQP_BASIC_TYPE_FLAG;
        props.type = bytes(p.type);
    }
    if (p.timestamp > 0) {
        props._flags |= AMQP_BASIC_TIMESTAMP_FLAG;
        props.timestamp = static_cast<std::uint64_t>(p.timestamp);
    }
    std::vector<amqp_table_entry_t> entries;
    if (!p.headers.empty()) {
        entries.reserve(p.headers.size());
        for (const auto& [key, value] : p.headers) {
            amqp_table_entry_t e{};
            e.key = bytes(key);
            e.value.kind = AMQP_FIELD_KIND_UTF8;
            e.value.value.bytes = bytes(value);
            entries.push_back(e);
        }
        props._flags |= AMQP_BASIC_HEADERS_FLAG;
        props.headers.num_entries = static_cast<int>(entries.size());
        props.headers.entries = entries.data();
    }
    const int rc = amqp_basic_publish(state_, kChannel, bytes(exchange), bytes(routing_key),
                                      mandatory ? 1 : 0, /*immediate=*/0, &props, bytes(body));
    if (rc != AMQP_STATUS_OK) fail(std::string("publish: ") + amqp_error_string2(rc));
    return confirming_ ? next_tag_++ : 0;
}

std::optional<Confirm> Connection::next_confirm(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() < 0) return std::nullopt;
        amqp_maybe_release_buffers(state_);
        amqp_frame_t frame{};
        timeval tv = to_timeval(left);
        const int rc = amqp_simple_wait_frame_noblock(state_, &frame, &tv);
        if (rc == AMQP_STATUS_TIMEOUT) return std::nullopt;
        if (rc != AMQP_STATUS_OK) fail(std::string("wait for confirms: ") + amqp_error_string2(rc));
        if (frame.frame_type != AMQP_FRAME_METHOD) continue;
        const amqp_method_t& m = frame.payload.method;
        // connection.close comes on channel 0: the broker's reason, not a confirm timeout.
        if (m.id == AMQP_CONNECTION_CLOSE_METHOD) fail(close_reason(m));
        if (frame.channel != kChannel) continue;
        if (m.id == AMQP_BASIC_ACK_METHOD) {
            const auto* a = static_cast<const amqp_basic_ack_t*>(m.decoded);
            return Confirm{a->delivery_tag, a->multiple != 0, true};
        }
        if (m.id == AMQP_BASIC_NACK_METHOD) {
            const auto* n = static_cast<const amqp_basic_nack_t*>(m.decoded);
            return Confirm{n->delivery_tag, n->multiple != 0, false};
        }
        if (m.id == AMQP_CHANNEL_CLOSE_METHOD) fail(close_reason(m));
        if (m.id == AMQP_BASIC_RETURN_METHOD) {
            // A mandatory message no queue took; its header and body frames follow.
            amqp_message_t returned{};
            const amqp_rpc_reply_t r = amqp_read_message(state_, kChannel, &returned, 0);
            amqp_destroy_message(&returned);
            if (r.reply_type != AMQP_RESPONSE_NORMAL) fail("reading a returned message");
            returned_ = true;
        }
        // Anything else on the channel is skipped.
    }
}

std::optional<Message> Connection::get(std::string_view queue, bool auto_ack) {
    const amqp_rpc_reply_t r = amqp_basic_get(state_, kChannel, bytes(queue), auto_ack);
    if (r.reply_type != AMQP_RESPONSE_NORMAL) check_rpc("basic.get");
    if (r.reply.id == AMQP_BASIC_GET_EMPTY_METHOD) return std::nullopt;
    Message out;
    {
        const auto* ok = static_cast<const amqp_basic_get_ok_t*>(r.reply.decoded);
        out.delivery_tag = ok->delivery_tag;
        out.redelivered = ok->redelivered != 0;
        out.exchange = text(ok->exchange);
        out.routing_key = text(ok->routing_key);
    }
    amqp_message_t message{};
    const amqp_rpc_reply_t read = amqp_read_message(state_, kChannel, &message, 0);
    if (read.reply_type != AMQP_RESPONSE_NORMAL) {
        amqp_destroy_message(&message);
        if (read.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION) {
            fail("basic.get body: " + close_reason(read.reply));
        }
        fail(std::string("basic.get body: ") + amqp_error_string2(read.library_error));
    }
    out.body = text(message.body);
    out.properties = read_properties(message.properties);
    amqp_destroy_message(&message);
    return out;
}

void Connection::reject(std::uint64_t delivery_tag, bool requeue) {
    const int rc = amqp_basic_reject(state_, kChannel, delivery_tag, requeue);
    if (rc != AMQP_STATUS_OK) fail(std::string("reject: ") + amqp_error_string2(rc));
}

void Connection::qos(std::uint16_t prefetch) {
    amqp_basic_qos(state_, kChannel, 0, prefetch, 0);
    check_rpc("basic.qos");
}

void Connection::consume(std::string_view queue) {
    amqp_basic_consume(state_, kChannel, bytes(queue), amqp_empty_bytes, /*no_local=*/0,
                       /*no_ack=*/0, /*exclusive=*/0, amqp_empty_table);
    check_rpc("basic.consume");
}

std::optional<Message> Connection::next_delivery(std::chrono::milliseconds wait) {
    amqp_maybe_release_buffers(state_);
    amqp_envelope_t envelope{};
    timeval tv = to_timeval(wait);
    const amqp_rpc_reply_t r = amqp_consume_message(state_, &envelope, &tv, 0);
    if (r.reply_type == AMQP_RESPONSE_NORMAL) {
        Message out;
        out.delivery_tag = envelope.delivery_tag;
        out.redelivered = envelope.redelivered != 0;
        out.exchange = text(envelope.exchange);
        out.routing_key = text(envelope.routing_key);
        out.body = text(envelope.message.body);
        out.properties = read_properties(envelope.message.properties);
        amqp_destroy_envelope(&envelope);
        return out;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION && r.library_error == AMQP_STATUS_TIMEOUT) {
        return std::nullopt;
    }
    if (r.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
        r.library_error == AMQP_STATUS_UNEXPECTED_STATE) {
        // A frame that is not a delivery: the broker closing the channel or the connection
        // (its reason is the error), or something to skip (basic.cancel-ok, …).
        amqp_frame_t frame{};
        timeval none{0, 0};
        const int rc = amqp_simple_wait_frame_noblock(state_, &frame, &none);
        if (rc == AMQP_STATUS_OK && frame.frame_type == AMQP_FRAME_METHOD) {
            const amqp_method_t& m = frame.payload.method;
            if (m.id == AMQP_CHANNEL_CLOSE_METHOD || m.id == AMQP_CONNECTION_CLOSE_METHOD) {
                fail(close_reason(m));
            }
            if (m.id == AMQP_BASIC_CANCEL_METHOD) fail("the broker cancelled the consumer");
        }
        return std::nullopt;
    }
    if (r.reply_type == AMQP_RESPONSE_SERVER_EXCEPTION) fail("consume: " + close_reason(r.reply));
    fail(std::string("consume: ") + amqp_error_string2(r.library_error));
}

void Connection::ack(std::uint64_t delivery_tag) {
    const int rc = amqp_basic_ack(state_, kChannel, delivery_tag, 0);
    if (rc != AMQP_STATUS_OK) fail(std::string("ack: ") + amqp_error_string2(rc));
}

}  // namespace msg::amqp
