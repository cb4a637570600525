; Every `ENV` pair and every `ARG` with a default; the check reads names and values.
[(env_pair) (arg_pair)] @pair
