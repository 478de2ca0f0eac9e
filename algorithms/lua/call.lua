-- call.lua -- follows prelude.lua in every algorithm script: the one key
-- (KEYS[1]), the config (ARGV[4..], the convention described in
-- prelude.lua), and the opening of decide(). A chain (sim/lua/chain.lua)
-- sets these up its own way, tier by tier.
key = KEYS[1]

-- v[i] of the C config (0-based, as in lim_config.v)
local function cfg(i)
  local a = ARGV[4 + i]
  if a then return a + 0 end   -- tonumber, cheaper (prelude.lua)
  return 0
end

local function decide()
