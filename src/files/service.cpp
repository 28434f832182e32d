#include "files/service.hpp"

#include <boost/json/parse.hpp>

#include "chat/room_event.hpp"
#include "chat/service.hpp"
#include "core/base64url.hpp"
#include "core/blocking.hpp"
#include "core/log.hpp"
#include "core/time.hpp"
#include "data/executor.hpp"
#include "media/thumbnailer.hpp"
#include "queue/event_queue.hpp"

namespace msg::files {

namespace json = boost::json;
using core::Result;
using core::Task;

FilesService::FilesService(data::Executor& db, blob::BlobStore& store, chat::ChatService& chat,
                           core::BlockingPool& blocking, std::uint64_t max_upload_bytes,
                           blob::StoreRouter* stores)
    : db_(db),
      store_(store),
      stores_(stores),
      chat_(chat),
      blocking_(blocking),
      max_upload_bytes_(max_upload_bytes) {}

Task<std::shared_ptr<blob::BlobStore>> FilesService::store_of(const std::string& tenant) {
    if (stores_ != nullptr) co_return co_await stores_->store_for(tenant);
    std::shared_ptr<blob::BlobStore> shared(std::shared_ptr<void>(), &store_);  // not owned
    co_return shared;
}

Task<bool> FilesService::make_thumbnail(blob::BlobStore& store, const std::string& key,
                                        const std::string& thumb_key) {
    const media::ThumbnailLimits limits;
    auto image = co_await store.get(key, limits.max_input_bytes);  // a store failure throws
    if (!image) {
        core::logger("files")->info("no thumbnail key=\"{}\" reason=\"object is gone\"", key);
        co_return false;
    }
    core::Result<std::string> jpeg = core::invalid("not made");
    co_await blocking_.run([&] { jpeg = media::make_thumbnail(*image, limits); });
    if (!jpeg) {
        core::logger("files")->info("no thumbnail key=\"{}\" reason=\"{}\"", key,
                                    jpeg.error().message);
        co_return false;
    }
    const std::string type = "image/jpeg";
    co_await store.put(thumb_key, type, *jpeg);
    co_return true;
}

Task<void> FilesService::on_file_registered(const queue::Event& event) {
    std::int64_t file_id = 0;
    try {
        file_id = json::parse(event.payload).as_object().at("file_id").to_number<std::int64_t>();
    } catch (const std::exception& e) {
        // Nothing of ours writes such a payload; retrying would not mend it.
        core::logger("files")->error("file.registered unreadable outbox_id={} error=\"{}\"",
                                     event.id, e.what());
        co_return;
    }
    auto job = co_await db_.run<ThumbnailJob>(event.tenant_id, file_id);
    if (!job) throw std::runtime_error(job.error().message);           // the consumer retries
    if (!job->found || job->thumbnail_status != "pending") co_return;  // none wanted, or done
    // Over the thumbnailer's input bound: no thumbnail (the bounded read would throw, and a
    // throw means "retry").
    const media::ThumbnailLimits limits;
    bool made = false;
    if (static_cast<std::uint64_t>(job->size_bytes) > limits.max_input_bytes) {
        core::logger("files")->info("no thumbnail key=\"{}\" reason=\"image too large\"",
                                    job->object_key);
    } else {
        auto store = co_await store_of(event.tenant_id);
        made = co_await make_thumbnail(*store, job->object_key, job->thumbnail_key);
    }
    auto done = co_await db_.run<FinishThumbnail>(event.tenant_id, file_id, made);
    if (!done) throw std::runtime_error(done.error().message);
    if (!done->updated) co_return;  // a concurrent delivery finished it first
    const FileObject& f = done->file;
    const std::string_view type = made ? "file.thumbnail_ready" : "file.thumbnail_failed";
    core::Principal tenant;  // publish() names the room's channel by the caller's tenant
    tenant.tenant_id = f.tenant_id;
    chat_.publish(tenant,
                  chat::relay_event(type, f.room_id, f.uploader_id, std::nullopt, to_json(f)));
}

Task<Result<FilesService::Presigned>> FilesService::presign_upload(const core::Principal& caller,
                                                                   std::string key,
                                                                   blob::UploadTerms terms,
                                                                   std::string base_hint) {
    auto resolved = resolve_key(caller.tenant_id, caller.user_id, key);
    if (!resolved) co_return resolved.error();
    if (resolved->room_id) {
        auto member = co_await chat_.require_member(caller, *resolved->room_id);
        if (!member) co_return member.error();
    }
    auto taken = co_await db_.run<KeyTaken>(caller.tenant_id, resolved->stored);
    if (!taken) co_return taken.error();
    if (taken->taken) co_return core::conflict("file is already registered");
    if (terms.size_bytes && (*terms.size_bytes < 1 ||
                             static_cast<std::uint64_t>(*terms.size_bytes) > max_upload_bytes_)) {
        co_return core::invalid("size_bytes must be between 1 and " +
                                std::to_string(max_upload_bytes_));
    }
    auto store = co_await store_of(caller.tenant_id);
    if (!terms.size_bytes && store->needs_upload_size()) {
        co_return core::invalid("size_bytes is required");
    }
    // Room files and note attachments are written once (a URL presigned before the object
    // was registered cannot replace it afterwards); the caller's own users/ folder may be
    // rewritten (an avatar).
    terms.create_only = resolved->room_id.has_value() || resolved->note;
    const auto url = store->presign_put(resolved->stored, kUrlTtl, terms, base_hint);
    co_return Presigned{url.url, resolved->stored, core::format_rfc3339(url.expires_at)};
}

Task<Result<FilesService::Presigned>> FilesService::presign_download(const core::Principal& caller,
                                                                     std::string key,
                                                                     std::string base_hint) {
    auto resolved = resolve_key(caller.tenant_id, caller.user_id, key, KeyUse::read);
    if (!resolved) co_return resolved.error();
    // resolve_key only accepts the caller's own users/<id>/ folder: theirs to read.
    const bool own_folder = !resolved->room_id && !resolved->note;
    if (!own_folder) {
        CanDownload::Request req{caller.tenant_id, caller.user_id, resolved->stored};
        auto allowed = co_await db_.run<CanDownload>(std::move(req));
        if (!allowed) co_return allowed.error();
        if (!allowed->allowed) co_return core::not_found("file not found");
    }
    auto store = co_await store_of(caller.tenant_id);
    const auto url = store->presign_get(resolved->stored, kUrlTtl, base_hint);
    co_return Presigned{url.url, resolved->stored, core::format_rfc3339(url.expires_at)};
}

Task<Result<std::string>> FilesService::attachable(const core::Principal& caller, std::string key) {
    auto resolved = resolve_key(caller.tenant_id, caller.user_id, key);
    if (!resolved) co_return resolved.error();
    if (resolved->note) {
        auto store = co_await store_of(caller.tenant_id);
        auto size = co_await store->size(resolved->stored);
        if (!size) co_return core::invalid("object does not exist");
        co_return std::move(resolved->stored);
    }
    if (!resolved->room_id) co_return core::forbidden("file access denied");  // users/<own id>/
    auto room_file =
        co_await db_.run<IsRoomFileOfMember>(caller.tenant_id, caller.user_id, resolved->stored);
    if (!room_file) co_return room_file.error();
    if (!room_file->yes) co_return core::forbidden("file access denied");
    co_return std::move(resolved->stored);
}

Task<Result<FileObject>> FilesService::register_file(const core::Principal& caller,
                                                     Registration in) {
    auto resolved = resolve_key(caller.tenant_id, caller.user_id, in.object_key);
    if (!resolved) co_return resolved.error();
    if (resolved->room_id != in.room_id) {
        co_return core::invalid("object_key must be under rooms/<room_id>/");
    }
    auto member = co_await chat_.require_member(caller, in.room_id);
    if (!member) co_return member.error();
    const std::string stored = resolved->stored;
    auto store = co_await store_of(caller.tenant_id);
    auto size = co_await store->size(stored);
    if (!size) co_return core::invalid("object does not exist");
    if (*size != in.size_bytes) co_return core::invalid("size_bytes does not match the object");
    // Nothing is written for a key that is already registered (the insert would answer 409),
    // and a thumbnail never lands on a key that is taken — a registered file named like one,
    // or another file's thumbnail: registering `a.png` must not overwrite `a_thumb.jpg`.
    auto taken = co_await db_.run<KeyTaken>(caller.tenant_id, stored);
    if (!taken) co_return taken.error();
    if (taken->taken) co_return core::conflict("file is already registered");
    // An image gets its thumbnail's key now (status pending); the thumbnail consumer makes it
    // after the commit (on_file_registered), off the request path.
    std::string thumb;
    if (in.content_type.starts_with("image/")) {
        thumb = thumbnail_key_for(stored);
        bool thumb_taken = false;
        if (!thumb.empty()) {
            auto taken_thumb = co_await db_.run<KeyTaken>(caller.tenant_id, thumb);
            if (!taken_thumb) co_return taken_thumb.error();
            thumb_taken = taken_thumb->taken;
        }
        if (thumb.empty() || thumb_taken) {
            core::logger("files")->info("no thumbnail key=\"{}\" reason=\"{}\"", stored,
                                        thumb.empty() ? "key too long" : "thumbnail key taken");
            thumb.clear();
        }
    }
    RegisterFile::Request req{caller.tenant_id, in.room_id,    caller.user_id,   stored,
                              in.content_type,  in.size_bytes, std::move(thumb), in.original_name};
    co_return co_await db_.run<RegisterFile>(std::move(req));
}

Task<Result<FilesService::FilePage>> FilesService::room_files(const core::Principal& caller,
                                                              std::int64_t room_id, int limit,
                                                              std::optional<std::string> cursor) {
    ListRoomFiles::Request req{caller.tenant_id, room_id, std::nullopt, limit + 1, caller.user_id};
    if (cursor) {
        auto c = core::decode_cursor(*cursor);
        if (!c) co_return core::invalid("cursor is invalid");
        req.before_id = c->id;
    }
    auto r = co_await db_.run<ListRoomFiles>(std::move(req));
    if (!r) co_return r.error();
    FilePage page;
    page.items = std::move(r->items);
    if (page.items.size() > static_cast<std::size_t>(limit)) {
        page.items.resize(static_cast<std::size_t>(limit));
        page.next_cursor = core::encode_cursor({0, page.items.back().id});
    }
    co_return page;
}

}  // namespace msg::files
