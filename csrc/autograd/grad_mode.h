#pragma once
// Grad modes are thread-local, as in PyTorch: a no_grad block in one thread does
// not change what another thread records.
namespace ember {

struct GradMode {
  static bool is_enabled();
  static void set_enabled(bool on);
  static bool is_inference();
  static void set_inference(bool on);
};

struct AutoGradMode {
  explicit AutoGradMode(bool on) : prev_(GradMode::is_enabled()) { GradMode::set_enabled(on); }
  ~AutoGradMode() { GradMode::set_enabled(prev_); }
  AutoGradMode(const AutoGradMode&) = delete;
  AutoGradMode& operator=(const AutoGradMode&) = delete;

 private:
  bool prev_;
};

struct NoGradGuard : AutoGradMode {
  NoGradGuard() : AutoGradMode(false) {}
};

}  // namespace ember
