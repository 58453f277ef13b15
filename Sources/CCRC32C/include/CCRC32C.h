// SPDX-License-Identifier: Apache-2.0
// CRC-32C with the processor's own instruction (SSE 4.2 `crc32` on x86-64), which Swift cannot
// reach without compiling a whole module for that instruction set. The caller checks
// `hosttrail_crc32c_hardware_available()` once and keeps its table-driven code for other machines.
#ifndef HOSTTRAIL_CCRC32C_H
#define HOSTTRAIL_CCRC32C_H

#include <stddef.h>
#include <stdint.h>

/// 1 when this processor has a CRC-32C instruction the function below uses, else 0.
int hosttrail_crc32c_hardware_available(void);

/// Advances the CRC-32C register `crc` (already inverted: start with 0xFFFFFFFF, invert the
/// result) over `count` bytes. Only call when `hosttrail_crc32c_hardware_available()` said 1.
uint32_t hosttrail_crc32c_hardware_update(uint32_t crc, const void *bytes, size_t count);

#endif
