print "What is your name? "
name = gets.to_s.chomp
print "How old are you? "
age = gets.to_s.strip
puts "Hello, #{name}!"
puts "Next year you will be #{age.to_i + 1}." if age.match?(/\A\d+\z/)
