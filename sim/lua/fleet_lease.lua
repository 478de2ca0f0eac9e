-- fleet_lease.lua -- a fleet's lease coordinator (sim/fleet.h), its book in
-- Redis: node i renews with its demand, and is granted its part of the
-- demand known, never more than the whole minus what the others may still
-- hold (the larger of each one's last two grants, until the older expires).
-- KEYS[1] book (hash: d<i> demand, g<i> grant, o<i> old grant, u<i> until, v<i> old until)
-- ARGV[1] node  ARGV[2] demand (requests/s)  ARGV[3] now (us)  ARGV[4] lease (us)  ARGV[5] nodes  ARGV[6] TTL (ms)
-- Reply: { grant (a string: a fraction of the limit), until (us, an integer) }
local i, now, lease, nodes = ARGV[1], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local book = KEYS[1]
local function num(field, default)
  local v = redis.call('HGET', book, field)
  if v then return tonumber(v) end
  return default
end
redis.call('HSET', book, 'd' .. i, ARGV[2])
local total, others = 0, 0
for j = 0, nodes - 1 do
  local s = tostring(j)
  total = total + num('d' .. s, 0)
  if s ~= i then
    local g, o, v = num('g' .. s, 1 / nodes), num('o' .. s, 0), num('v' .. s, 0)
    if now < v and o > g then others = others + o else others = others + g end
  end
end
local fair = 1 / nodes
if total > 0 then fair = num('d' .. i, 0) / total end
local grant = math.min(fair, 1 - others)
if grant < 0 then grant = 0 end
redis.call('HSET', book, 'o' .. i, string.format('%.17g', num('g' .. i, 1 / nodes)),
           'v' .. i, tostring(num('u' .. i, lease)), 'g' .. i, string.format('%.17g', grant),
           'u' .. i, tostring(now + lease))
redis.call('PEXPIRE', book, ARGV[6])
return { string.format('%.17g', grant), now + lease }
