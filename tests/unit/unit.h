/* SPDX-License-Identifier: MIT */
#pragma once

/* cmocka.h needs these before it; one header keeps that order away from include sorting. */
/* clang-format off */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
/* clang-format on */
