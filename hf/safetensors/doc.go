// Package safetensors reads and writes the safetensors tensor format, single files and sharded
// checkpoints (model.safetensors.index.json).
//
// The format: an 8-byte little-endian unsigned length N, then N bytes of UTF-8 JSON (the header),
// then the data section. The header maps each tensor name to {"dtype", "shape", "data_offsets":
// [begin, end]}, offsets counted in bytes from the start of the data section, and may hold a
// "__metadata__" object of string to string. Tensor data are little-endian and row-major (C order).
//
// Reading: Open memory-maps the file read-only (falling back to reading it into memory where mmap
// is unavailable) and validates the whole header before it returns, so that no later call can
// index outside the file. Slices returned by Bytes and Float32View alias the mapping: they are
// read-only (writing through them faults) and valid until Close. As with any mapping, truncating
// the file while it is open makes reads of the lost pages fault (SIGBUS); replace files by
// renaming, as Write does. Float32 always returns a fresh slice that the caller owns. A File or Set
// may be read from several goroutines at once; Close must not run concurrently with other calls.
//
// Writing: Write streams a file to a temporary name in the target directory, syncs it and renames
// it into place, so a reader never sees a partly written file. Tensors are laid out contiguously,
// largest element size first and by name within a size, which aligns every tensor to its element
// size (the layout the reference implementation produces and requires).
package safetensors
