-- chain.lua -- the frame of a chain's script (sim/chain.h): prelude.lua comes
-- before it, and each tier's algorithm body (algorithms/lua/<name>.lua) is
-- put in at the --@tiers line as  tiers[i] = function() <body> end.
-- One call decides one request through every tier, atomically.
--
--   KEYS[i]   tier i's state
--   ARGV[1]   now (negative: the server's TIME)   ARGV[2] cost   ARGV[3] TTL ms
--   ARGV[4]   policy: 0 all_or_nothing, 1 in_order_refund, 2 in_order_no_refund
--   ARGV[5]   number of tiers; then per tier: its config count, then its config
-- Reply: { allowed, remaining, retry_after_us, delay_us, now, refused }, with
-- refused the bit mask of the tiers that refused (bit 0: tier 1).
-- A cost of 0 reports the first tier's level: { level, now }.
-- Every tier decides in place; what the policy does not keep is put back
-- as it was with RESTORE (or DEL, for a key that did not exist), which is
-- what the memory backend's copies amount to.

local policy = tonumber(ARGV[4])
local n = tonumber(ARGV[5])

-- what a tier's body reads besides prelude.lua's: its config, set before each call
local base, count
local function cfg(i)
  if i < count then return ARGV[base + i] + 0 end   -- tonumber, cheaper (prelude.lua)
  return 0
end

local tiers = {}
--@tiers

local function enter(i)
  local at = 6
  for j = 1, i - 1 do at = at + 1 + tonumber(ARGV[at]) end
  key, count, base = KEYS[i], tonumber(ARGV[at]), at + 1
end

if cost == 0 then
  enter(1)
  local reply = tiers[1]()
  reply[#reply + 1] = now
  return reply
end

local d, before = {}, {}
local decided, first, refused = 0, 0, 0
for i = 1, n do
  enter(i)
  before[i] = redis.call('DUMP', key)
  d[i] = tiers[i]()
  decided = i
  if d[i][1] == 0 then
    refused = refused + 2 ^ (i - 1)
    if first == 0 then first = i end
    if policy ~= 0 then break end
  end
end

local allowed, remaining, retry, delay = 1, d[1][2], 0, 0
for i = 1, decided do
  if d[i][2] < remaining then remaining = d[i][2] end
  if d[i][1] == 1 and d[i][4] > delay then delay = d[i][4] end
end
if first > 0 then
  allowed, delay, retry = 0, 0, d[first][3]
  for i = first + 1, decided do
    if d[i][1] == 0 then
      if retry == RETRY_NEVER or d[i][3] == RETRY_NEVER then retry = RETRY_NEVER
      elseif d[i][3] > retry then retry = d[i][3] end
    end
  end
  if policy ~= 2 then
    for i = 1, decided do
      if d[i][1] == 1 then
        if before[i] then redis.call('RESTORE', KEYS[i], ttl, before[i], 'REPLACE')
        else redis.call('DEL', KEYS[i]) end
      end
    end
  end
end
return { allowed, remaining, retry, delay, now, refused }
