#pragma once

// The JSON mapping of data operations (Boost.JSON over the Boost.Describe descriptions every
// Request and Response has). Included only by the registration files (<module>/wire.cpp) and
// tests: the conversions are heavy to compile, so each is instantiated once.
//
//     void register_operations(data::Registry& r) {
//         r.add(data::entry<CreateRoom>());
//         ...
//     }

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value_from.hpp>
#include <boost/json/value_to.hpp>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "core/json.hpp"
#include "data/executor.hpp"
#include "data/remote.hpp"

namespace msg::data {

namespace wire {

template <class T>
std::string encode(const T& value) {
    if constexpr (std::is_empty_v<T>) {
        return "{}";
    } else {
        return boost::json::serialize(boost::json::value_from(value));
    }
}

/// False when `body` is not JSON or does not map onto T (a missing member, a wrong type).
template <class T>
bool decode(std::string_view body, T& out) {
    auto object = core::parse_object(body);  // bounded depth, valid UTF-8
    if (!object) return false;
    if constexpr (std::is_empty_v<T>) {
        return true;
    } else {
        const boost::json::value v(std::move(*object));
        auto r = boost::json::try_value_to<T>(v);
        if (!r) return false;
        out = std::move(*r);
        return true;
    }
}

template <class Op>
std::string encode_request(const void* request) {
    return encode(*static_cast<const typename Op::Request*>(request));
}

template <class Op>
bool decode_response(std::string_view body, void* response) {
    return decode(body, *static_cast<typename Op::Response*>(response));
}

template <class Op>
core::Task<std::pair<unsigned, std::string>> serve(Executor& local, const std::string& body) {
    typename Op::Request request{};
    if (!decode(body, request)) {
        const auto e = core::invalid("invalid request body for " + std::string(Op::kName));
        co_return std::pair{status_of(e.code), encode_error(e)};
    }
    auto result = co_await local.run<Op>(request);
    if (!result) co_return std::pair{status_of(result.error().code), encode_error(result.error())};
    co_return std::pair{200u, encode(*result)};
}

}  // namespace wire

/// The registry entry of one operation.
template <class Op>
OpEntry entry() {
    OpEntry e;
    e.name = Op::kName;
    e.type = typeid(Op);
    e.read_only = Op::kReadOnly;
    e.encode_request = &wire::encode_request<Op>;
    e.decode_response = &wire::decode_response<Op>;
    e.serve = &wire::serve<Op>;
    return e;
}

}  // namespace msg::data
