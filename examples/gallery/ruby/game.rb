secret = rand(1..100)
puts "I'm thinking of a number from 1 to 100. You have 7 tries."

attempt = 1
while attempt <= 7
  print "Guess ##{attempt}: "
  line = gets
  if line.nil?
    puts "\nBye! The number was #{secret}"
    exit
  end
  unless line.strip.match?(/\A\d+\z/)
    puts "Please type a whole number."
    attempt += 1
    next
  end
  guess = line.to_i
  if guess < secret
    puts "Too low."
  elsif guess > secret
    puts "Too high."
  else
    puts "You got it in #{attempt} tries!"
    exit
  end
  attempt += 1
end
puts "Out of tries! The number was #{secret}"
