"""ember.fx.experimental: see proxy_tensor."""
