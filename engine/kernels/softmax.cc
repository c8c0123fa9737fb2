// Placeholder: filled in by the kernel group's author.
