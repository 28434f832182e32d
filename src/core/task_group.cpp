#include "core/task_group.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>

#include "core/log.hpp"

namespace msg::core {

void TaskGroup::spawn(Task<void> task) {
    ++running_;
    boost::asio::co_spawn(io_, std::move(task), [this](const std::exception_ptr& e) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                logger("app")->error("background task failed group={} error=\"{}\"", name_,
                                     ex.what());
            } catch (...) {
                logger("app")->error("background task failed group={}", name_);
            }
        }
        --running_;
    });
}

}  // namespace msg::core
