#include <boost/asio/io_context.hpp>

#include "data/executor.hpp"
#include "notes/operations.hpp"
#include "storage/pg/pool.hpp"
#include "testing/co_test.hpp"
#include "testing/pg_database.hpp"

namespace msg::notes {
namespace {

struct Fixture {
    explicit Fixture(boost::asio::io_context& io)
        : pool(io, testing::test_pool_options(4)), db(pool) {}

    core::Task<void> setup(int n) {
        tenant = testing::unique_tenant("notes");
        users = co_await testing::create_tenant_with_users(pool, tenant, n);
    }

    /// A note from `sender` with the given recipients and one file.
    // string_view and const&: no class-type temporary in the caller's co_await (GCC 12).
    core::Task<core::Result<Note>> send(std::int64_t sender, const std::vector<Recipient>& to,
                                        std::string_view title = "Weekly") {
        std::vector<NoteFile> files{{"plan.pdf", "notes/plan.pdf", "application/pdf", 1234}};
        std::string text(title);
        std::vector<Recipient> recipients = to;
        co_return co_await db.run<CreateNote>(tenant, sender, std::move(text), "본문",
                                              std::move(recipients), std::move(files));
    }

    pg::Pool pool;
    data::Executor db;
    std::string tenant;
    std::vector<std::int64_t> users;
};

std::vector<Recipient> to_cc_bcc(std::int64_t to, std::int64_t cc, std::int64_t bcc) {
    return {{to, "to"}, {cc, "cc"}, {bcc, "bcc"}};
}

CO_TEST(NotesOps, CreateStoresRecipientsAndFilesInOrder) {
    Fixture f(ctx.io);
    co_await f.setup(4);
    auto recipients = to_cc_bcc(f.users[1], f.users[2], f.users[3]);
    auto note = co_await f.send(f.users[0], recipients);
    CO_ASSERT(note.has_value());
    EXPECT_GT(note->note_id, 0);
    EXPECT_EQ(note->recipients.size(), 3u);
    EXPECT_TRUE(note->created_at.ends_with("Z"));

    // The sender sees everything, in the order written.
    auto seen = co_await f.db.run<GetNote>(f.tenant, f.users[0], note->note_id);
    CO_ASSERT(seen.has_value());
    EXPECT_FALSE(seen->recipient_type.has_value());
    CO_ASSERT(seen->note.recipients.size() == 3);
    EXPECT_EQ(seen->note.recipients[2].type, "bcc");
    CO_ASSERT(seen->note.files.size() == 1);
    EXPECT_EQ(seen->note.files[0].object_key, "notes/plan.pdf");
    EXPECT_EQ(seen->note.files[0].size_bytes, 1234);
    EXPECT_EQ(seen->note.body, "본문");
}

CO_TEST(NotesOps, UnknownRecipientWritesNothing) {
    Fixture f(ctx.io);
    co_await f.setup(2);
    Fixture other(ctx.io);
    co_await other.setup(1);
    std::vector<Recipient> recipients{{f.users[1], "to"}, {other.users[0], "cc"}};
    auto note = co_await f.send(f.users[0], recipients);
    EXPECT_EQ(note.error().message, "unknown recipient");
    auto c = co_await f.pool.acquire();
    auto rows = co_await c->query("SELECT count(*) FROM notes WHERE tenant_id = $1", f.tenant);
    EXPECT_EQ(rows.int64(0, 0), 0);
}

CO_TEST(NotesOps, RecipientsSeeTheirOwnTypeAndNeverAnotherBcc) {
    Fixture f(ctx.io);
    co_await f.setup(5);
    auto recipients = to_cc_bcc(f.users[1], f.users[2], f.users[3]);
    auto note = co_await f.send(f.users[0], recipients);
    CO_ASSERT(note.has_value());

    auto as_to = co_await f.db.run<GetNote>(f.tenant, f.users[1], note->note_id);
    CO_ASSERT(as_to.has_value());
    EXPECT_EQ(as_to->recipient_type, "to");
    EXPECT_EQ(as_to->note.recipients.size(), 2u);  // to and cc, not the bcc
    for (const auto& r : as_to->note.recipients) EXPECT_NE(r.type, "bcc");

    auto as_bcc = co_await f.db.run<GetNote>(f.tenant, f.users[3], note->note_id);
    CO_ASSERT(as_bcc.has_value());
    EXPECT_EQ(as_bcc->recipient_type, "bcc");
    EXPECT_EQ(as_bcc->note.recipients.size(), 3u);  // to, cc and themself

    auto stranger = co_await f.db.run<GetNote>(f.tenant, f.users[4], note->note_id);
    EXPECT_EQ(stranger.error().message, "note not found");
    Fixture other(ctx.io);
    co_await other.setup(1);
    auto foreign = co_await f.db.run<GetNote>(other.tenant, f.users[1], note->note_id);
    EXPECT_EQ(foreign.error().message, "note not found");
}

CO_TEST(NotesOps, InboxPagesNewestFirstWithReadState) {
    Fixture f(ctx.io);
    co_await f.setup(3);
    std::vector<std::int64_t> ids;
    for (int i = 0; i < 5; ++i) {
        std::vector<Recipient> r{{f.users[1], i % 2 ? "cc" : "to"}};
        const std::string title = "n" + std::to_string(i);
        auto note = co_await f.send(f.users[0], r, title);
        ids.push_back(note.value().note_id);
    }
    std::optional<std::int64_t> first_page;
    auto page = co_await f.db.run<ListInbox>(f.tenant, f.users[1], 3, first_page);
    CO_ASSERT(page && page->items.size() == 3);
    EXPECT_EQ(page->items[0].note_id, ids[4]);
    EXPECT_EQ(page->items[0].title, "n4");
    EXPECT_EQ(page->items[0].file_count, 1);
    EXPECT_EQ(page->items[1].recipient_type, "cc");
    EXPECT_FALSE(page->items[0].is_read);
    std::optional<std::int64_t> before = page->items.back().note_id;
    auto rest = co_await f.db.run<ListInbox>(f.tenant, f.users[1], 3, before);
    CO_ASSERT(rest && rest->items.size() == 2);
    EXPECT_EQ(rest->items[1].note_id, ids[0]);

    auto read = co_await f.db.run<MarkNoteRead>(f.tenant, f.users[1], ids[4]);
    EXPECT_TRUE(read->updated);
    auto not_mine = co_await f.db.run<MarkNoteRead>(f.tenant, f.users[2], ids[4]);
    EXPECT_FALSE(not_mine->updated);  // no error, as the seed; nothing changes
    auto after = co_await f.db.run<ListInbox>(f.tenant, f.users[1], 1, first_page);
    EXPECT_TRUE(after->items[0].is_read);
    EXPECT_TRUE(after->items[0].read_at.has_value());
    auto sender_inbox = co_await f.db.run<ListInbox>(f.tenant, f.users[0], 10, first_page);
    EXPECT_TRUE(sender_inbox->items.empty());
}

}  // namespace
}  // namespace msg::notes
