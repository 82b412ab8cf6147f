#include "autograd/grad_mode.h"

namespace ember {

static thread_local bool grad_enabled = true;
static thread_local bool inference_on = false;

bool GradMode::is_enabled() { return grad_enabled; }
void GradMode::set_enabled(bool on) { grad_enabled = on; }
bool GradMode::is_inference() { return inference_on; }
void GradMode::set_inference(bool on) { inference_on = on; }

}  // namespace ember
