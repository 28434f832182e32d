#pragma once

#include <string>

#include "core/http_client.hpp"
#include "vector/vector.hpp"

namespace msg::vector {

/// VectorIndex on Milvus's REST v2 API (`/v2/vectordb/...`, port 19530), done where the seed
/// went wrong (seed-contract §5.4, §14.1 #9): search bodies carry `data`; the collection is
/// created with its vector index (COSINE) and loaded; writes are upserts; a business error
/// (HTTP 200 with `code != 0`) is an error; every entity carries its tenant and every filter
/// is scoped to it, with string literals escaped. One collection for all tenants; primary key
/// `<tenant>/<message id>`.
class MilvusIndex final : public VectorIndex {
  public:
    struct Options {
        std::string endpoint = "http://127.0.0.1:19530";
        std::string token;  // MILVUS_TOKEN ("user:password" or an API key); never logged
        std::string collection = "messages";
        std::size_t dimension = 256;
    };
    MilvusIndex(core::HttpClient& http, Options options);

    std::string_view name() const override { return "milvus"; }
    core::Task<void> ensure() override;
    core::Task<void> upsert(const std::string& tenant_id,
                            const std::vector<VectorItem>& items) override;
    core::Task<void> remove(const std::string& tenant_id,
                            const std::vector<std::int64_t>& message_ids) override;
    core::Task<std::vector<VectorHit>> search(const std::string& tenant_id, const Vector& query,
                                              const SearchFilter& filter, int k) override;
    /// Milvus is durable: nothing to catch up.
    core::Task<std::optional<std::int64_t>> missing_since(const std::string& tenant_id) override;

    /// A Milvus boolean-expression string literal: double-quoted, `\` and `"` escaped.
    static std::string quote(std::string_view s);
    /// `tenant_id == "…"` [and room_id in [...]] [and message_id in [...]].
    static std::string filter_expression(const std::string& tenant_id, const SearchFilter& f);

  private:
    /// POSTs to /v2/vectordb/<path>; returns the parsed `data` member (serialized JSON).
    core::Task<std::string> call(std::string_view path, const std::string& body);

    core::HttpClient& http_;
    Options options_;
};

}  // namespace msg::vector
