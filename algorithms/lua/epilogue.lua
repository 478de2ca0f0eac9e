-- epilogue.lua -- appended to every algorithm script: closes decide() (opened
-- at the end of prelude.lua) and reports the time the decision was made at.
end

local reply = decide()
reply[#reply + 1] = now
return reply
