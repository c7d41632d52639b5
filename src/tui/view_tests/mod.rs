// snapshot tests
