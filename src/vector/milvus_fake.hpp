#pragma once

// A stand-in for Milvus's REST v2 API, served over real HTTP on loopback, for the tests of
// MilvusIndex (Milvus cannot run on this machine). It follows the documented request and
// response shapes and is strict where Milvus is: search needs `data` (a list of vectors) and a
// loaded collection, entities must match the schema, business errors come back as HTTP 200
// with `code != 0`. Filters: `field == "string"` and `field in [integers]` joined by `and`.
// Search is exact (brute-force cosine). Test-only.

#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace msg::vector::testing {

class MilvusFake {
  public:
    /// `token`: when set, requests must carry `Authorization: Bearer <token>`.
    explicit MilvusFake(boost::asio::io_context& io, std::string token = "");
    ~MilvusFake();

    std::string endpoint() const;  // http://127.0.0.1:<port>
    /// The request paths seen, in order ("collections/has", "entities/search", …).
    std::vector<std::string> calls() const;
    /// The next request answers HTTP 200 with this business error code.
    void fail_next(int code, std::string message);
    std::size_t entity_count() const;

    struct State;

  private:
    std::shared_ptr<State> state_;
};

}  // namespace msg::vector::testing
