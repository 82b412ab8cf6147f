"""ember.distributed._composable: see ember.distributed.fsdp."""
