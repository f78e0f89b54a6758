// Internal: conversion of the caller's JSON context into template values.
#pragma once

#include <nlohmann/json.hpp>

#include "chat/jinja_value.h"

namespace pocket::jinja {

// Converts JSON to a value (objects keep their key order); fails past kMaxValueDepth.
Value from_json(const nlohmann::ordered_json& j, uint32_t depth = 0);

}  // namespace pocket::jinja
