-- fleet_control.lua -- one round of a fleet's central controller
-- (sim/fleet.h), its state in Redis: every node's share of the limit in
-- proportion to the demand it last reported, summing to the whole.
-- KEYS[1] reports (hash: node -> requests/s)  KEYS[2] shares (hash: node -> "fraction round")
-- ARGV[1] nodes  ARGV[2] TTL (milliseconds)  ARGV[3] the round's time (us): a node whose share
-- stops changing round knows the controller has stopped
-- Reply: the nodes whose shares were set
local nodes = tonumber(ARGV[1])
local demand, total = {}, 0
for i = 0, nodes - 1 do
  demand[i] = tonumber(redis.call('HGET', KEYS[1], tostring(i)) or '0')
  total = total + demand[i]
end
for i = 0, nodes - 1 do
  local share = 1 / nodes
  if total > 0 then share = demand[i] / total end
  redis.call('HSET', KEYS[2], tostring(i), string.format('%.17g %s', share, ARGV[3]))
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return nodes
